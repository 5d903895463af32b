package grainsmod

func getDoc(fun string) string {
	return `Attempt to retrieve the named value from grains, if the named value is not available return the passed default. The default return is an empty string.

The value can also represent a value in a nested dict using a ":" delimiter for the dict. This means that if a dict in grains looks like this::

    {'pkg': {'apache': 'httpd'}}

To retrieve the value associated with the apache key in the pkg dict this key can be passed::

    pkg:apache

delimiter
    Specify an alternate delimiter to use when traversing a nested dict. This is useful for when the desired key contains a colon.

ordered
    Outputs an ordered dict if applicable (default: True)

CLI Example:

    salt '*' ` + fun + ` pkg:apache
    salt '*' ` + fun + ` abc::def|ghi delimiter='|'`
}

const filterByDoc = `Look up the given grain in a given dictionary for the current OS and return the result

Although this may occasionally be useful at the CLI, the primary intent of this function is for use in Jinja to make short work of creating lookup tables for OS-specific data.

lookup_dict
    A dictionary, keyed by a grain, containing a value or values relevant to systems matching that grain. The keys may be globbing patterns.

grain
    The name of a grain to match with the current system's grains. The grain value could be a list: the value for the first item matching one of the keys is returned.

merge
    A dictionary to merge with the results of the grain selection from lookup_dict. This allows Pillar to override the values in the lookup_dict.

default
    default lookup_dict's key used if the grain does not exists or if the grain value has no match on lookup_dict. If unspecified the value is "default".

base
    A lookup_dict key to use for a base dictionary. The grain-selected lookup_dict is merged over this and then finally the merge dictionary is merged.

CLI Example:

    salt '*' grains.filter_by '{Debian: Debheads rule, RedHat: I love my hat}'
    # this one will render {D: {E: I, G: H}, J: K}
    salt '*' grains.filter_by '{A: B, C: {D: {E: F, G: H}}}' 'xxx' '{D: {E: I}, J: K}' 'C'
    # next one renders {A: {B: G}, D: J}
    salt '*' grains.filter_by '{default: {A: {B: C}, D: E}, F: {A: {B: G}}, H: {D: I}}' 'xxx' '{D: J}' 'F' 'default'`

// Package all is the one list of the minion's execution modules: Registry
// builds the registry a minion (and brine-call) runs functions from.
package all

import (
	"github.com/brine-project/brine/minion/modules"
	"github.com/brine-project/brine/minion/modules/cmd"
	"github.com/brine-project/brine/minion/modules/grainsmod"
	"github.com/brine-project/brine/minion/modules/saltutil"
	"github.com/brine-project/brine/minion/modules/sys"
	"github.com/brine-project/brine/minion/modules/test"
)

// Registry returns a registry holding every module.
func Registry() *modules.Registry {
	r := modules.NewRegistry()
	for _, specs := range [][]*modules.Spec{
		test.Specs(),
		cmd.Specs(),
		saltutil.Specs(),
		grainsmod.Specs(),
		sys.Specs(r),
	} {
		for _, s := range specs {
			r.Register(s)
		}
	}
	return r
}

package saltargs

// LoadYAML loads a YAML document as Salt's YAML renderer does
// (salt.utils.yaml.safe_load: PyYAML's YAML 1.1 SafeLoader with Salt's
// changes), for other readers of Salt's YAML such as pillar SLS files. Maps
// come back as wire.Map in document order, integers as int64 (uint64, or
// the decimal string, past 64 bits, as Salt would send them), sets as
// lists; an empty document is nil. It is safe for concurrent use.
func LoadYAML(text string) (any, error) {
	v, err := load(text)
	if err != nil {
		return nil, err
	}
	return publishable(v)
}

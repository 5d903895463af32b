// Package all is the one list of the minion's execution modules: Registry
// builds the registry a minion (and brine-call) runs functions from.
package all

import (
	"github.com/brine-project/brine/minion/modules"
	"github.com/brine-project/brine/minion/modules/cmd"
	"github.com/brine-project/brine/minion/modules/configmod"
	"github.com/brine-project/brine/minion/modules/cp"
	"github.com/brine-project/brine/minion/modules/disk"
	"github.com/brine-project/brine/minion/modules/event"
	"github.com/brine-project/brine/minion/modules/file"
	"github.com/brine-project/brine/minion/modules/grainsmod"
	"github.com/brine-project/brine/minion/modules/network"
	"github.com/brine-project/brine/minion/modules/pillar"
	"github.com/brine-project/brine/minion/modules/pkg"
	"github.com/brine-project/brine/minion/modules/saltutil"
	"github.com/brine-project/brine/minion/modules/service"
	"github.com/brine-project/brine/minion/modules/status"
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
		pillar.Specs(),
		configmod.Specs(),
		event.Specs(),
		cp.Specs(),
		file.Specs(),
		disk.Specs(),
		status.Specs(),
		network.Specs(),
		pkg.Specs(),
		service.Specs(),
		sys.Specs(r),
	} {
		for _, s := range specs {
			r.Register(s)
		}
	}
	return r
}

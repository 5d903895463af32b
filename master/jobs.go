package master

import (
	"context"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/brine-project/brine/crypto"
	"github.com/brine-project/brine/internal/target"
	"github.com/brine-project/brine/master/jobcache"
	"github.com/brine-project/brine/master/pillar"
	"github.com/brine-project/brine/master/pki"
	"github.com/brine-project/brine/transport/wire"
)

// authError is Salt's answer to a local client without a valid key.
func authError() map[string]any {
	return map[string]any{"error": map[string]any{"name": "AuthenticationError", "message": "Authentication error occurred."}}
}

// localUser checks the key a local client (brine, brine-run) sent: the
// contents of cachedir/.<user>_key. It returns the user it belongs to.
func (m *Master) localUser(load map[string]any) (string, bool) {
	key, _ := wire.OptString(load, "key")
	for user, k := range m.rootKeys {
		if subtle.ConstantTimeCompare([]byte(key), []byte(k)) == 1 {
			return user, true
		}
	}
	return "", false
}

// publish is the clear publish command of local clients: resolve the
// expected minions, allocate the jid, record the job, announce it on the
// event bus and send the publication.
func (m *Master) publish(ctx context.Context, load map[string]any) any {
	user, ok := m.localUser(load)
	if !ok {
		m.log.Warn("master: publish with a bad key refused")
		return authError()
	}
	fun, _ := wire.OptString(load, "fun")
	if fun == "" {
		return clearLoad(map[string]any{"jid": nil, "minions": []any{}, "error": "no function to run"})
	}
	tgt := load["tgt"]
	tgtType, _ := wire.OptString(load, "tgt_type")
	if tgtType == "" {
		tgtType = "glob"
	}
	if tgtType == "nodegroup" {
		// Minions know no nodegroups: publish the expansion, as Salt's
		// LocalClient does.
		name, _ := tgt.(string)
		words, err := target.ExpandNodegroup(name, m.cfg.Nodegroups)
		if err != nil {
			return clearLoad(map[string]any{"jid": nil, "minions": []any{}, "error": err.Error()})
		}
		tgt, tgtType = anyList(words), "compound"
	}
	delim := ":"
	if kw, ok := load["kwargs"].(map[string]any); ok {
		if d, ok := kw["delimiter"].(string); ok && d != "" {
			delim = d
		}
	}
	minions, missing, err := m.expectedMinions(tgt, tgtType, delim)
	if err != nil || len(minions) == 0 {
		msg := fmt.Sprintf("Master could not resolve minions for target %v", tgt)
		if err != nil {
			msg += ": " + err.Error()
		}
		m.log.Info("master: publish matched no minion", "tgt", tgt, "tgt_type", tgtType, "err", err)
		return clearLoad(map[string]any{"jid": nil, "minions": []any{}, "error": msg})
	}
	jid, _ := wire.OptString(load, "jid")
	if !jidValid(jid) {
		jid = m.jids.Next()
	}
	arg, _ := load["arg"].([]any)
	if arg == nil {
		arg = []any{}
	}
	ret, _ := wire.OptString(load, "ret")
	if u, ok := wire.OptString(load, "user"); ok && u != "" {
		user = u
	}
	pub := wire.Map{
		{Key: "fun", Value: fun}, {Key: "arg", Value: arg}, {Key: "tgt", Value: tgt},
		{Key: "jid", Value: jid}, {Key: "ret", Value: ret},
	}
	if delim != ":" {
		pub = append(pub, wire.Field{Key: "delimiter", Value: delim})
	}
	pub = append(pub, wire.Field{Key: "tgt_type", Value: tgtType}, wire.Field{Key: "user", Value: user})

	now := time.Now()
	job := jobcache.Job{JID: jid, Load: mapOf(pub), Minions: minions, StartTime: now}
	if err := m.jobs.SaveJob(ctx, job); err != nil {
		m.log.Error("master: saving the job", "jid", jid, "err", err)
	}
	m.fire(ctx, jid, map[string]any{"minions": anyList(minions)})
	m.fire(ctx, "salt/job/"+jid+"/new", map[string]any{
		"jid": jid, "tgt_type": tgtType, "tgt": tgt, "user": user, "fun": fun,
		"arg": arg, "minions": anyList(minions), "missing": anyList(missing),
	})
	if err := m.sendPublication(ctx, pub, tgtType, minions); err != nil {
		m.log.Error("master: publishing", "jid", jid, "err", err)
		return clearLoad(map[string]any{"jid": nil, "minions": []any{}, "error": "the publication could not be sent: " + err.Error()})
	}
	m.log.Info("master: published", "jid", jid, "fun", fun, "minions", len(minions))
	return clearLoad(map[string]any{"jid": jid, "minions": anyList(minions), "missing": anyList(missing)})
}

// expectedMinions lists the accepted minions the target matches, using
// the cached grains and pillar of each (a minion without cached data is
// expected whenever its data could match: Salt's greedy matching), and
// for a list target the ids that have no accepted key (missing).
func (m *Master) expectedMinions(tgt any, tgtType, delim string) (minions, missing []string, err error) {
	matcher, err := target.Compile(tgt, tgtType, target.Options{Delimiter: delim, Nodegroups: m.cfg.Nodegroups, Greedy: true})
	if err != nil {
		return nil, nil, err
	}
	accepted, err := m.keys.List(pki.Accepted)
	if err != nil {
		return nil, nil, err
	}
	needGrains, needPillar := matcher.Needs()
	for _, id := range accepted {
		d := target.Data{ID: id}
		if needGrains || needPillar {
			d.Grains, d.Pillar, _ = m.mcache.Get(id)
		}
		if matcher.Match(d) {
			minions = append(minions, id)
		}
	}
	for _, id := range matcher.ListedIDs() {
		if !slices.Contains(accepted, id) && !slices.Contains(missing, id) {
			missing = append(missing, id)
		}
	}
	return minions, missing, nil
}

// sendPublication wraps a publication and sends it on the publish port.
// With zmq_filtering, glob, pcre and list targets go out once per minion
// under the hex SHA-1 of its id, so each minion receives only its own;
// everything else goes out under "broadcast".
func (m *Master) sendPublication(ctx context.Context, load wire.Map, tgtType string, minions []string) error {
	body, err := m.wrapLoad(mapOf(load))
	if err != nil {
		return err
	}
	if !m.cfg.ZMQFiltering {
		return m.publisher.Publish(ctx, [][]byte{body})
	}
	switch tgtType {
	case "glob", "pcre", "list":
		for _, id := range minions {
			sum := sha1.Sum([]byte(id))
			if err := m.publisher.Publish(ctx, [][]byte{[]byte(hex.EncodeToString(sum[:])), body}); err != nil {
				return err
			}
		}
		return nil
	}
	return m.publisher.Publish(ctx, [][]byte{[]byte("broadcast"), body})
}

// returnLoad stores a minion's _return and fires salt/job/<jid>/ret/<id>.
// A "req" jid (a minion-initiated job, salt-call) gets a fresh one.
func (m *Master) returnLoad(ctx context.Context, id string, load map[string]any) {
	jid, _ := wire.OptString(load, "jid")
	if jid == "req" {
		jid = m.jids.Next()
		load["jid"] = jid
		fun, _ := wire.OptString(load, "fun")
		job := jobcache.Job{JID: jid, Load: map[string]any{"fun": fun, "arg": load["fun_args"], "tgt": id, "tgt_type": "glob", "jid": jid, "user": load["user"]},
			Minions: []string{id}, StartTime: time.Now()}
		if err := m.jobs.SaveJob(ctx, job); err != nil {
			m.log.Error("master: saving the job", "jid", jid, "err", err)
		}
	}
	if !jidValid(jid) {
		m.log.Warn("master: return with an invalid jid ignored", "minion", id, "jid", jid)
		return
	}
	if m.cfg.JobCache {
		if ok, err := m.jobs.HasJob(ctx, jid); err == nil && !ok {
			m.log.Warn("master: return for an unknown job ignored", "minion", id, "jid", jid)
			return
		}
	}
	switch err := m.jobs.AddReturn(ctx, jid, id, load); {
	case errors.Is(err, jobcache.ErrDuplicate):
		m.log.Debug("master: duplicate return ignored", "minion", id, "jid", jid)
		return
	case err != nil:
		m.log.Error("master: storing a return", "minion", id, "jid", jid, "err", err)
	}
	m.metrics.Return()
	m.fire(ctx, "salt/job/"+jid+"/ret/"+id, load)
	m.returns.deliver(jid, id, load)
}

// pillar answers _pillar: it compiles the minion's pillar from
// pillar_roots with the grains the minion sent, caches both (the master
// targets with them, -G and -I), and returns the pillar in Salt's
// send_private form: a clear map whose pillar is sealed with a one-off key
// OAEP-encrypted to the minion, and signed with the nonce.
func (m *Master) pillar(ctx context.Context, id, nonce string, load map[string]any, encAlgo crypto.EncAlgo, sigAlgo crypto.SigAlgo) ([]byte, error) {
	grains, _ := load["grains"].(map[string]any)
	if grains == nil {
		grains = map[string]any{}
	}
	grains["id"] = id // as Salt's _pillar does
	saltenv, _ := wire.OptString(load, "saltenv")
	pillarenv, _ := wire.OptString(load, "pillarenv")
	override, _ := load["pillar_override"].(map[string]any)
	pillarData := m.pillars.Compile(ctx, pillar.Request{ID: id, Grains: grains, Saltenv: saltenv, Pillarenv: pillarenv, Override: override})
	if err := m.mcache.Put(id, grains, pillarData); err != nil {
		m.log.Warn("master: caching the minion's grains", "minion", id, "err", err)
	}
	m.fire(ctx, "minion/refresh/"+id, map[string]any{"Minion data cache refresh": id})

	pubText, err := m.keys.Get(pki.Accepted, id)
	if err != nil {
		return nil, err
	}
	pub, err := crypto.ParsePublicKey([]byte(pubText))
	if err != nil {
		return nil, err
	}
	key, err := crypto.GenerateCrypticleKey(m.rand)
	if err != nil {
		return nil, err
	}
	keyCT, err := crypto.Encrypt(m.rand, pub, encAlgo, []byte(key))
	if err != nil {
		return nil, err
	}
	data, err := wire.Marshal(wire.Map{{Key: "key", Value: keyCT}, {Key: "pillar", Value: pillarData}, {Key: "nonce", Value: nonce}})
	if err != nil {
		return nil, err
	}
	sig, err := crypto.Sign(m.priv, sigAlgo, data)
	if err != nil {
		return nil, err
	}
	inner, err := wire.Marshal(wire.Map{{Key: "data", Value: data}, {Key: "sig", Value: sig}})
	if err != nil {
		return nil, err
	}
	c, err := crypto.NewCrypticle(key)
	if err != nil {
		return nil, err
	}
	sealed, err := c.Seal(m.rand, "", inner)
	if err != nil {
		return nil, err
	}
	return wire.Marshal(wire.Map{{Key: "key", Value: keyCT}, {Key: "pillar", Value: sealed}})
}

// masterOpts is _master_opts: the parts of the master's configuration a
// minion needs for states.
func (m *Master) masterOpts(load map[string]any) map[string]any {
	roots := map[string]any{}
	for env := range m.cfg.FileRoots {
		roots[env] = []any{} // Salt sends the environments' names only
	}
	opts := map[string]any{
		"file_roots":                roots,
		"top_file_merging_strategy": m.cfg.TopFileMergingStrategy,
		"env_order":                 []any{},
		"default_top":               "base",
	}
	if envOnly, _ := load["env_only"].(bool); envOnly {
		return opts
	}
	nodegroups := map[string]any{}
	for k, v := range m.cfg.Nodegroups {
		nodegroups[k] = v
	}
	for k, v := range map[string]any{
		"renderer": "jinja|yaml", "failhard": false, "state_top": "top.sls", "state_top_saltenv": nil,
		"nodegroups": nodegroups, "state_auto_order": true, "state_events": false, "state_aggregate": false,
		"jinja_env": map[string]any{}, "jinja_sls_env": map[string]any{}, "jinja_lstrip_blocks": false, "jinja_trim_blocks": false,
	} {
		opts[k] = v
	}
	return opts
}

func clearLoad(load map[string]any) map[string]any {
	return map[string]any{"enc": "clear", "load": load}
}

func mapOf(m wire.Map) map[string]any {
	out := make(map[string]any, len(m))
	for _, f := range m {
		out[f.Key] = f.Value
	}
	return out
}

func anyList(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}

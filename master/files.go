package master

import (
	"fmt"
	"log/slog"
	"path/filepath"

	"github.com/brine-project/brine/config"
	"github.com/brine-project/brine/master/fileserver"
	"github.com/brine-project/brine/master/pillar"
)

// newFileServices builds the file server over file_roots (with cp.push
// storing under cachedir/minions, like Salt) and the pillar compiler over
// pillar_roots.
func newFileServices(cfg *config.Master, log *slog.Logger) (*fileserver.Server, *pillar.Compiler, error) {
	files, err := fileserver.New(fileserver.Config{
		Roots:       cfg.FileRoots,
		HashType:    cfg.HashType,
		BufferSize:  cfg.FileBufferSize,
		RecvDir:     filepath.Join(cfg.CacheDir, "minions"),
		Recv:        cfg.FileRecv,
		RecvMaxSize: int64(cfg.FileRecvMaxSize) << 20,
		Logger:      log,
	})
	if err != nil {
		return nil, nil, fmt.Errorf("master: file server: %w", err)
	}
	pillars, err := pillar.New(pillar.Config{
		Roots:             cfg.PillarRoots,
		Strategy:          cfg.PillarSourceMergingStrategy,
		MergeLists:        cfg.PillarMergeLists,
		RenderErrorDetail: !cfg.PillarSafeRenderError,
		Nodegroups:        cfg.Nodegroups,
		Opts: map[string]any{
			"file_roots": rootsOpt(cfg.FileRoots), "pillar_roots": rootsOpt(cfg.PillarRoots),
			"hash_type": cfg.HashType, "renderer": "jinja|yaml", "cachedir": cfg.CacheDir,
			"pillar_source_merging_strategy": cfg.PillarSourceMergingStrategy,
		},
		Logger: log,
	})
	if err != nil {
		return nil, nil, fmt.Errorf("master: pillar: %w", err)
	}
	return files, pillars, nil
}

func rootsOpt(roots map[string][]string) map[string]any {
	out := make(map[string]any, len(roots))
	for env, dirs := range roots {
		l := make([]any, len(dirs))
		for i, d := range dirs {
			l[i] = d
		}
		out[env] = l
	}
	return out
}

package dispatch

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"

	"github.com/firnhq/firn/internal/meta"
	"github.com/firnhq/firn/internal/notify"
	"github.com/firnhq/firn/internal/notify/target"
)

// settingName is the metadata setting holding the targets added at run
// time (a JSON list of target.Spec).
const settingName = "notify.targets"

// Errors of the registry.
var (
	ErrNoSuchTarget = errors.New("no such notification target")
	ErrTargetExists = errors.New("a notification target of that name exists")
	// ErrStaticTarget: targets of the server configuration change only
	// there.
	ErrStaticTarget = errors.New("the target is declared in the server configuration")
	// ErrInvalidTarget: the spec was refused (see target.Spec.Validate).
	ErrInvalidTarget = errors.New("invalid notification target")
)

// registry is the set of declared targets: those of the server
// configuration (static) and those kept in the metadata store.
type registry struct {
	settings meta.SettingStore
	region   string

	// wmu serialises add and remove; mu guards the maps and is never
	// held while the store is written (a write's events call resolve).
	wmu     sync.Mutex
	mu      sync.RWMutex
	static  map[string]target.Spec
	dynamic map[string]target.Spec
}

func newRegistry(settings meta.SettingStore, region string, static []target.Spec) (*registry, error) {
	r := &registry{settings: settings, region: region, static: map[string]target.Spec{}, dynamic: map[string]target.Spec{}}
	for _, s := range static {
		if err := s.Validate(); err != nil {
			return nil, err
		}
		if _, dup := r.static[s.Name]; dup {
			return nil, fmt.Errorf("notification target %q declared twice", s.Name)
		}
		r.static[s.Name] = s
	}
	return r, nil
}

// load reads the dynamic targets from the store.
func (r *registry) load(ctx context.Context) error {
	b, err := r.settings.GetSetting(ctx, settingName)
	if err != nil {
		return err
	}
	var list []target.Spec
	if b != nil {
		if err := json.Unmarshal(b, &list); err != nil {
			return fmt.Errorf("stored notification targets: %w", err)
		}
	}
	m := make(map[string]target.Spec, len(list))
	for _, s := range list {
		m[s.Name] = s
	}
	r.mu.Lock()
	r.dynamic = m
	r.mu.Unlock()
	return nil
}

// save writes m as the dynamic targets.
func (r *registry) save(ctx context.Context, m map[string]target.Spec) error {
	list := make([]target.Spec, 0, len(m))
	for _, name := range slices.Sorted(maps.Keys(m)) {
		list = append(list, m[name])
	}
	b, err := json.Marshal(list)
	if err != nil {
		return err
	}
	return r.settings.PutSetting(ctx, settingName, b)
}

// get returns the spec of name.
func (r *registry) get(name string) (target.Spec, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if s, ok := r.static[name]; ok {
		return s, true
	}
	s, ok := r.dynamic[name]
	return s, ok
}

// all returns every declared spec, by name, and whether each is static.
func (r *registry) all() ([]target.Spec, map[string]bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	static := map[string]bool{}
	var out []target.Spec
	for n, s := range r.static {
		out = append(out, s)
		static[n] = true
	}
	for n, s := range r.dynamic {
		if !static[n] {
			out = append(out, s)
		}
	}
	slices.SortFunc(out, func(a, b target.Spec) int {
		switch {
		case a.Name < b.Name:
			return -1
		case a.Name > b.Name:
			return 1
		}
		return 0
	})
	return out, static
}

// add declares s in the store.
func (r *registry) add(ctx context.Context, s target.Spec) error {
	if err := s.Validate(); err != nil {
		return fmt.Errorf("%w: %v", ErrInvalidTarget, err)
	}
	return r.change(ctx, func(m map[string]target.Spec) error {
		if _, ok := r.static[s.Name]; ok {
			return fmt.Errorf("%s: %w", s.Name, ErrStaticTarget)
		}
		if _, ok := m[s.Name]; ok {
			return fmt.Errorf("%s: %w", s.Name, ErrTargetExists)
		}
		m[s.Name] = s
		return nil
	})
}

// remove drops a stored target.
func (r *registry) remove(ctx context.Context, name string) error {
	return r.change(ctx, func(m map[string]target.Spec) error {
		if _, ok := r.static[name]; ok {
			return fmt.Errorf("%s: %w", name, ErrStaticTarget)
		}
		if _, ok := m[name]; !ok {
			return fmt.Errorf("%s: %w", name, ErrNoSuchTarget)
		}
		delete(m, name)
		return nil
	})
}

// change applies fn to a copy of the stored targets, freshly read, saves
// the result and makes it current.
func (r *registry) change(ctx context.Context, fn func(m map[string]target.Spec) error) error {
	r.wmu.Lock()
	defer r.wmu.Unlock()
	if err := r.load(ctx); err != nil {
		return err
	}
	r.mu.RLock()
	m := maps.Clone(r.dynamic)
	r.mu.RUnlock()
	if err := fn(m); err != nil {
		return err
	}
	if err := r.save(ctx, m); err != nil {
		return err
	}
	r.mu.Lock()
	r.dynamic = m
	r.mu.Unlock()
	return nil
}

// resolve returns the target an ARN names. Any of the three ARN services
// names a target; the configuration's element decides which one fits.
func (r *registry) resolve(arn string) (string, bool) {
	_, _, _, name, err := notify.ParseARN(arn)
	if err != nil {
		return "", false
	}
	_, ok := r.get(name)
	return name, ok
}

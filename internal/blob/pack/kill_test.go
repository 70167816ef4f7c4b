package pack

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/firnhq/firn/internal/blob"
)

const killChildEnv = "FIRN_PACK_KILL_CHILD"

func killConfig(root string) Config {
	var dirs []string
	for i := range 6 {
		dirs = append(dirs, filepath.Join(root, fmt.Sprintf("disk%d", i)))
	}
	return Config{StateDir: filepath.Join(root, "state"), Dirs: dirs, PackSize: 512 << 10, BlockSize: 4 << 10}
}

// TestKill9 runs writers in a child process, kills it with SIGKILL while
// commits, seals and deletes are in flight, and checks after each
// restart that every acknowledged object reads back byte-identical and
// every acknowledged delete held.
func TestKill9(t *testing.T) {
	if os.Getenv(killChildEnv) != "" {
		t.Skip("in the child")
	}
	if testing.Short() {
		t.Skip("-short")
	}
	root := t.TempDir()
	acked := map[string]string{} // id -> sha256
	deleted := map[string]bool{}
	deleting := map[string]bool{}
	for round := range 4 {
		cmd := exec.Command(os.Args[0], "-test.run=^TestKill9Child$", "-test.v")
		cmd.Env = append(os.Environ(), killChildEnv+"="+root)
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		lines := make(chan string)
		go func() {
			sc := bufio.NewScanner(out)
			for sc.Scan() {
				lines <- sc.Text()
			}
			close(lines)
		}()
		n := 0
		parse := func(l string) {
			f := strings.Fields(l)
			switch {
			case len(f) == 3 && f[0] == "ok":
				acked[f[1]] = f[2]
				n++
			case len(f) == 2 && f[0] == "deleting":
				deleting[f[1]] = true
			case len(f) == 2 && f[0] == "deleted":
				deleted[f[1]] = true
			}
		}
		deadline := time.After(time.Duration(300+200*round) * time.Millisecond)
	read:
		for {
			select {
			case l, ok := <-lines:
				if !ok {
					t.Fatalf("round %d: the child ended by itself", round)
				}
				parse(l)
			case <-deadline:
				break read
			}
		}
		cmd.Process.Kill()
		// Lines printed before the kill count too.
		for l := range lines {
			parse(l)
		}
		cmd.Wait()
		if n == 0 {
			t.Fatalf("round %d: no commit acknowledged", round)
		}
		s, err := Open(killConfig(root))
		if err != nil {
			t.Fatalf("round %d: Open after kill -9: %v", round, err)
		}
		checked := 0
		for id, sum := range acked {
			got, err := get(s, id, 0, -1)
			switch {
			case deleted[id]:
				if !errors.Is(err, blob.ErrNotFound) {
					t.Errorf("round %d: deleted object %s: got %v, want ErrNotFound", round, id, err)
				}
			case deleting[id] && errors.Is(err, blob.ErrNotFound):
			case err != nil:
				t.Errorf("round %d: acknowledged object %s: %v", round, id, err)
			default:
				h := sha256.Sum256(got)
				if hex.EncodeToString(h[:]) != sum {
					t.Errorf("round %d: acknowledged object %s: different bytes", round, id)
				}
				checked++
			}
		}
		seals := len(shardFilesIn(t, killConfig(root))) / 6
		t.Logf("round %d: %d acknowledged in this round, %d objects read back, %d sealed packs", round, n, checked, seals)
		s.Close()
	}
}

func shardFilesIn(t *testing.T, cfg Config) []string {
	return shardFiles(t, cfg)
}

// TestKill9Child is the child of TestKill9: it writes until killed.
func TestKill9Child(t *testing.T) {
	root := os.Getenv(killChildEnv)
	if root == "" {
		t.Skip("only run by TestKill9")
	}
	s, err := Open(killConfig(root))
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex // serializes lines on stdout
	say := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		os.Stdout.WriteString(fmt.Sprintf(format, args...) + "\n")
	}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), uint64(g)))
			var mine []string
			for {
				n := r.IntN(3 << 17)
				var data []byte
				if r.IntN(2) == 0 {
					data = randBytes(n, r.Uint64())
				} else {
					data = textBytes(n, r.Uint64())
				}
				w, err := s.Create(t.Context())
				if err != nil {
					panic(err)
				}
				w.Write(data)
				if err := w.Commit(t.Context()); err != nil {
					panic(err)
				}
				sum := sha256.Sum256(data)
				say("ok %s %x", w.ID(), sum)
				mine = append(mine, w.ID())
				if r.IntN(5) == 0 {
					id := mine[r.IntN(len(mine))]
					say("deleting %s", id)
					if err := s.Delete(t.Context(), id); err != nil {
						panic(err)
					}
					say("deleted %s", id)
				}
			}
		})
	}
	wg.Wait()
}

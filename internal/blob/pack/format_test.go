package pack

import (
	"bytes"
	"encoding/binary"
	"os"
	"testing"
	"time"

	"github.com/klauspost/reedsolomon"
)

func TestEntryRoundTrip(t *testing.T) {
	e := Entry{ID: "0123456789abcdef0123456789abcdef", Label: Label{Bucket: "b", Key: "a/key", VersionID: "v1"}, Compression: Zstd, Flags: flagMoved,
		Size: 1000, StoredSize: 300, Committed: time.Unix(0, 1234567890123), StoredCRC: 0xdeadbeef, Offset: 32}
	e.SHA256[0] = 7
	h := appendFrameHeader(nil, &e)
	if int64(len(h)) != e.headerLen() {
		t.Fatalf("frame header of %d bytes, want %d", len(h), e.headerLen())
	}
	got, err := parseFrameHeader(h, 32)
	if err != nil {
		t.Fatal(err)
	}
	if got != e {
		t.Errorf("round trip: got %+v, want %+v", got, e)
	}
	h[20] ^= 1
	if _, err := parseFrameHeader(h, 32); err == nil {
		t.Error("damaged frame header parsed")
	}
	// A multipart part's label.
	e.Label = Label{Bucket: "b", Key: "big", UploadID: "upload-1", PartNumber: 10000}
	h = appendFrameHeader(nil, &e)
	if int64(len(h)) != e.headerLen() {
		t.Fatalf("part frame header of %d bytes, want %d", len(h), e.headerLen())
	}
	got, err = parseFrameHeader(h, 32)
	if err != nil {
		t.Fatal(err)
	}
	if got.Label != e.Label || got.Flags != flagMoved|flagPart {
		t.Errorf("part label round trip: got %+v flags %b", got.Label, got.Flags)
	}
	if err := validLabel(Label{UploadID: "u"}); err == nil {
		t.Error("an upload without a part number is a valid label")
	}
}

// samplePack returns the content of a small pack with two objects and
// the shard files of it (4+2, 256-byte blocks).
func samplePack(t testing.TB) ([]byte, [][]byte) {
	var id [16]byte
	id[0] = 1
	content := packHeader(id)
	var entries []Entry
	for i, data := range [][]byte{[]byte("hello"), bytes.Repeat([]byte("x"), 700)} {
		e := Entry{ID: "0123456789abcdef0123456789abcde" + string(rune('0'+i)), Label: Label{Bucket: "b", Key: "k"},
			Size: int64(len(data)), StoredSize: int64(len(data)), StoredCRC: crc32c(data), Offset: int64(len(content))}
		content = appendFrameHeader(content, &e)
		content = append(content, data...)
		entries = append(entries, e)
	}
	content = appendIndex(content, entries, int64(len(content)))
	hdr := shardHeader{PackID: id, K: 4, M: 2, Length: int64(len(content)), Sealed: time.Unix(1, 0)}
	hdr.BlockSize, hdr.Blocks = layout(hdr.Length, 4, 256)
	dir := t.TempDir()
	var paths []string
	for i := range 6 {
		paths = append(paths, dir+"/"+shardName("01000000000000000000000000000000", i))
	}
	s := &Store{}
	if err := s.writeShards(t.Context(), bytes.NewReader(content), hdr, paths); err != nil {
		t.Fatal(err)
	}
	var shards [][]byte
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		shards = append(shards, b)
	}
	return content, shards
}

// FuzzParsePack feeds the parsers of shard headers, pack headers,
// frames, trailers and indexes arbitrary bytes: they must not panic,
// must not read out of bounds, and what they accept must encode back to
// the same bytes.
func FuzzParsePack(f *testing.F) {
	content, shards := samplePack(f)
	f.Add(content)
	f.Add(shards[0])
	f.Add(shards[5])
	f.Add(content[packHeaderSize:])
	f.Add(content[len(content)-200:])
	f.Fuzz(func(t *testing.T, b []byte) {
		if h, err := parseShardHeader(b); err == nil {
			if got := h.marshal(); !bytes.Equal(got, b[:shardHeaderSize]) {
				t.Fatalf("shard header round trip: got %x, want %x", got, b[:shardHeaderSize])
			}
		}
		if e, err := parseEntryBody(b); err == nil {
			if got := appendEntryBody(nil, &e); !bytes.Equal(got, b) {
				t.Fatalf("entry round trip: got %x, want %x", got, b)
			}
		}
		end, err := scanFrames(bytes.NewReader(b), min(packHeaderSize, int64(len(b))), func(e Entry) error {
			if e.DataOffset()+e.StoredSize > int64(len(b)) {
				t.Fatalf("frame %s beyond the input", e.ID)
			}
			return nil
		})
		if err != nil || end > int64(len(b)) {
			t.Fatalf("scanFrames: got (%d, %v) for %d bytes", end, err, len(b))
		}
		if len(b) >= packHeaderSize+trailerSize {
			parsePackHeader(b)
			n := int64(len(b))
			tr, err := parseTrailer(b[n-trailerSize:], n)
			if err != nil {
				return
			}
			entries, err := parseIndex(b[tr.indexOff:tr.indexOff+tr.indexLen], tr.indexCRC, tr.indexOff)
			if err != nil {
				return
			}
			if got := appendIndex(nil, entries, tr.indexOff); !bytes.Equal(got, b[tr.indexOff:]) {
				t.Fatalf("index round trip: got %x, want %x", got, b[tr.indexOff:])
			}
		}
	})
}

// gf256 is GF(2^8) with the polynomial x^8+x^4+x^3+x^2+1, written out
// here as docs/pack-format.md describes it, independently of the library.
type gf256 struct{ exp, log [512]byte }

func newGF() *gf256 {
	g := &gf256{}
	x := 1
	for i := range 255 {
		g.exp[i], g.exp[i+255] = byte(x), byte(x)
		g.log[x] = byte(i)
		x <<= 1
		if x&0x100 != 0 {
			x ^= 0x11d
		}
	}
	return g
}

func (g *gf256) mul(a, b byte) byte {
	if a == 0 || b == 0 {
		return 0
	}
	return g.exp[int(g.log[a])+int(g.log[b])]
}

func (g *gf256) pow(a byte, n int) byte {
	r := byte(1)
	for range n {
		r = g.mul(r, a)
	}
	return r
}

func (g *gf256) inv(a byte) byte { return g.exp[255-int(g.log[a])] }

// invert inverts a square matrix by Gauss–Jordan elimination.
func (g *gf256) invert(m [][]byte) [][]byte {
	n := len(m)
	a := make([][]byte, n)
	for i := range m {
		a[i] = append(append([]byte{}, m[i]...), make([]byte, n)...)
		a[i][n+i] = 1
	}
	for c := range n {
		p := c
		for a[p][c] == 0 {
			p++
		}
		a[c], a[p] = a[p], a[c]
		iv := g.inv(a[c][c])
		for j := range a[c] {
			a[c][j] = g.mul(a[c][j], iv)
		}
		for r := range n {
			if r != c && a[r][c] != 0 {
				f := a[r][c]
				for j := range a[r] {
					a[r][j] ^= g.mul(f, a[c][j])
				}
			}
		}
	}
	for i := range a {
		a[i] = a[i][n:]
	}
	return a
}

// TestParityMatrix pins the parity code to the one the format document
// specifies: parity = (V · T⁻¹) rows k..k+m-1 times the data, where V is
// the (k+m)×k Vandermonde matrix V[r][c] = r^c and T its top k rows.
func TestParityMatrix(t *testing.T) {
	g := newGF()
	for _, km := range [][2]int{{4, 2}, {3, 1}, {10, 4}, {1, 1}} {
		k, m := km[0], km[1]
		v := make([][]byte, k+m)
		for r := range v {
			v[r] = make([]byte, k)
			for c := range k {
				v[r][c] = g.pow(byte(r), c)
			}
		}
		ti := g.invert(v[:k])
		data := make([][]byte, k)
		for i := range data {
			data[i] = []byte{byte(3*i + 1), byte(200 - i), byte(i * i), 0xff}
		}
		shards := append(append([][]byte{}, data...), make([][]byte, m)...)
		for i := k; i < k+m; i++ {
			shards[i] = make([]byte, 4)
		}
		enc, err := reedsolomon.New(k, m)
		if err != nil {
			t.Fatal(err)
		}
		if err := enc.Encode(shards); err != nil {
			t.Fatal(err)
		}
		for p := range m {
			// Row k+p of V·T⁻¹.
			row := make([]byte, k)
			for c := range k {
				for j := range k {
					row[c] ^= g.mul(v[k+p][j], ti[j][c])
				}
			}
			for x := range 4 {
				var want byte
				for c := range k {
					want ^= g.mul(row[c], data[c][x])
				}
				if shards[k+p][x] != want {
					t.Fatalf("%d+%d: parity %d byte %d: library %02x, specification %02x", k, m, p, x, shards[k+p][x], want)
				}
			}
		}
	}
}

// TestShardLayout checks the documented layout of a shard file on the
// sample pack: header, then per block the bytes and their CRC, data
// shard i holding content [i·n·B, (i+1)·n·B).
func TestShardLayout(t *testing.T) {
	content, shards := samplePack(t)
	h, err := parseShardHeader(shards[0])
	if err != nil {
		t.Fatal(err)
	}
	bs, n := h.BlockSize, h.Blocks
	for i := range 4 {
		if len(shards[i]) != shardHeaderSize+n*(bs+4) {
			t.Fatalf("shard %d: %d bytes, want %d", i, len(shards[i]), shardHeaderSize+n*(bs+4))
		}
		for r := range n {
			rec := shards[i][shardHeaderSize+r*(bs+4):][:bs+4]
			if binary.LittleEndian.Uint32(rec[bs:]) != crc32c(rec[:bs]) {
				t.Errorf("shard %d block %d: bad CRC", i, r)
			}
			off := (i*n + r) * bs
			want := make([]byte, bs)
			if off < len(content) {
				copy(want, content[off:])
			}
			if !bytes.Equal(rec[:bs], want) {
				t.Errorf("shard %d block %d: not content[%d:]", i, r, off)
			}
		}
	}
}

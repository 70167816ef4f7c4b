package repo

import (
	"io/fs"
	"time"
)

// Snapshot types.
const (
	TypeFull        = "full"
	TypeIncremental = "incremental"
)

// Snapshot is the JSON of a snapshots/<id> file (sealed): one backup run.
type Snapshot struct {
	Time     time.Time `json:"time"`
	Host     string    `json:"host"`
	Username string    `json:"username,omitempty"`
	Tags     []string  `json:"tags,omitempty"`
	// Paths are the absolute source paths; a command's output appears as
	// StdinName.
	Paths     []string `json:"paths"`
	StdinName string   `json:"stdin_name,omitempty"`
	Command   string   `json:"command,omitempty"`
	Excludes  []string `json:"excludes,omitempty"`
	// Type is TypeFull (every file read) or TypeIncremental (unchanged
	// files taken from Parent without reading).
	Type    string `json:"type"`
	Parent  *ID    `json:"parent,omitempty"`
	Tree    ID     `json:"tree"`
	Stats   Stats  `json:"stats"`
	Program string `json:"program,omitempty"`

	// ID is the snapshot's file id; not stored.
	ID ID `json:"-"`
}

// Stats are the numbers of a backup run.
type Stats struct {
	Files          int64   `json:"files"`
	Dirs           int64   `json:"dirs"`
	FilesNew       int64   `json:"files_new"`
	FilesChanged   int64   `json:"files_changed"`
	FilesUnchanged int64   `json:"files_unchanged"`
	Errors         int64   `json:"errors,omitempty"`
	BytesTotal     int64   `json:"bytes_total"`  // size of all files in the snapshot
	BytesRead      int64   `json:"bytes_read"`   // read from the sources
	BlobsNew       int64   `json:"blobs_new"`    // blobs (data and tree) stored for the first time
	BytesNew       int64   `json:"bytes_new"`    // plaintext bytes of the new blobs
	BytesStored    int64   `json:"bytes_stored"` // compressed and sealed bytes added to packs
	PacksNew       int64   `json:"packs_new"`    // packs uploaded
	DurationSecond float64 `json:"duration_seconds"`
}

// Node types.
const (
	NodeFile    = "file"
	NodeDir     = "dir"
	NodeSymlink = "symlink"
)

// Node is one entry of a Tree.
type Node struct {
	Name string `json:"name"`
	Type string `json:"type"`
	// Mode is the permission bits and setuid, setgid and sticky, as in
	// fs.FileMode (type bits excluded).
	Mode    fs.FileMode `json:"mode"`
	ModTime time.Time   `json:"mtime"`
	UID     uint32      `json:"uid"`
	GID     uint32      `json:"gid"`
	Inode   uint64      `json:"inode,omitempty"`
	Device  uint64      `json:"device,omitempty"`
	Size    int64       `json:"size,omitempty"`
	// Content lists the data blobs of a file, in order.
	Content []ID `json:"content,omitempty"`
	// Subtree is the tree blob of a directory.
	Subtree *ID `json:"subtree,omitempty"`
	// LinkTarget is a symlink's target.
	LinkTarget string `json:"link_target,omitempty"`
}

// Tree is the JSON of a tree blob: a directory's entries sorted by name.
type Tree struct {
	Nodes []*Node `json:"nodes"`
}

// Find returns the node called name, or nil.
func (t *Tree) Find(name string) *Node {
	if t == nil {
		return nil
	}
	lo, hi := 0, len(t.Nodes)
	for lo < hi {
		m := (lo + hi) / 2
		if t.Nodes[m].Name < name {
			lo = m + 1
		} else {
			hi = m
		}
	}
	if lo < len(t.Nodes) && t.Nodes[lo].Name == name {
		return t.Nodes[lo]
	}
	return nil
}

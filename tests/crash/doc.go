// Package crash proves the durability promise: it kills a loaded firn server
// with SIGKILL, restarts it, and checks every acknowledged write and no other.
package crash

// Package layering checks in tests that firn's packages import only what
// their layer allows and that every package has a doc comment.
package layering

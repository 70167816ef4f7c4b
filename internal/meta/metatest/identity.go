package metatest

import (
	"testing"

	"github.com/firnhq/firn/internal/meta"
)

func testIdentity(t *testing.T, s meta.Store) {
	ctx := t.Context()
	must(t, "CreateUser backup", s.CreateUser(ctx, meta.User{Name: "backup", Created: stamp}))
	wantErr(t, "CreateUser again", s.CreateUser(ctx, meta.User{Name: "backup", Created: stamp}), meta.ErrUserExists)
	must(t, "CreateUser alice", s.CreateUser(ctx, meta.User{Name: "alice", Created: stamp, Policy: []byte(`{"Version":"2012-10-17"}`)}))
	us, err := s.ListUsers(ctx)
	must(t, "ListUsers", err)
	if len(us) != 2 || us[0].Name != "alice" || us[1].Name != "backup" || string(us[0].Policy) != `{"Version":"2012-10-17"}` || us[1].Policy != nil {
		t.Errorf("ListUsers: %+v", us)
	}
	pol := []byte(`{"Statement":[]}`)
	must(t, "PutUserPolicy", s.PutUserPolicy(ctx, "backup", pol))
	u, err := s.GetUser(ctx, "backup")
	must(t, "GetUser", err)
	if string(u.Policy) != string(pol) || !closeTime(u.Created, stamp) {
		t.Errorf("GetUser: %+v", u)
	}
	wantErr(t, "PutUserPolicy missing", s.PutUserPolicy(ctx, "nobody", pol), meta.ErrNoSuchUser)
	_, err = s.GetUser(ctx, "nobody")
	wantErr(t, "GetUser missing", err, meta.ErrNoSuchUser)

	must(t, "CreateAccessKey", s.CreateAccessKey(ctx, meta.AccessKey{ID: "AKID1", User: "backup", Secret: "s1", Created: stamp}))
	must(t, "CreateAccessKey 2", s.CreateAccessKey(ctx, meta.AccessKey{ID: "AKID2", User: "backup", Secret: "s2", Created: stamp}))
	must(t, "CreateAccessKey alice", s.CreateAccessKey(ctx, meta.AccessKey{ID: "AKID3", User: "alice", Secret: "s3", Created: stamp}))
	wantErr(t, "CreateAccessKey taken", s.CreateAccessKey(ctx, meta.AccessKey{ID: "AKID1", User: "alice", Secret: "x", Created: stamp}), meta.ErrAccessKeyExists)
	wantErr(t, "CreateAccessKey for nobody", s.CreateAccessKey(ctx, meta.AccessKey{ID: "AKID9", User: "nobody", Secret: "x", Created: stamp}), meta.ErrNoSuchUser)
	k, err := s.GetAccessKey(ctx, "AKID2")
	must(t, "GetAccessKey", err)
	if k.User != "backup" || k.Secret != "s2" {
		t.Errorf("GetAccessKey: %+v", k)
	}
	ks, err := s.ListAccessKeys(ctx, "backup")
	must(t, "ListAccessKeys", err)
	if len(ks) != 2 || ks[0].ID != "AKID1" {
		t.Errorf("ListAccessKeys backup: %+v", ks)
	}
	if all, _ := s.ListAccessKeys(ctx, ""); len(all) != 3 {
		t.Errorf("ListAccessKeys all: %d", len(all))
	}
	must(t, "DeleteAccessKey", s.DeleteAccessKey(ctx, "AKID1"))
	wantErr(t, "DeleteAccessKey again", s.DeleteAccessKey(ctx, "AKID1"), meta.ErrNoSuchAccessKey)
	_, err = s.GetAccessKey(ctx, "AKID1")
	wantErr(t, "GetAccessKey revoked", err, meta.ErrNoSuchAccessKey)
	// Deleting a user revokes its keys.
	must(t, "DeleteUser", s.DeleteUser(ctx, "backup"))
	_, err = s.GetAccessKey(ctx, "AKID2")
	wantErr(t, "key of a deleted user", err, meta.ErrNoSuchAccessKey)
	wantErr(t, "DeleteUser again", s.DeleteUser(ctx, "backup"), meta.ErrNoSuchUser)
	if _, err := s.GetAccessKey(ctx, "AKID3"); err != nil {
		t.Errorf("another user's key went: %v", err)
	}
}

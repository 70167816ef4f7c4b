package iam

import (
	"context"
	"errors"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/firnhq/firn/internal/meta"
	"github.com/firnhq/firn/internal/meta/sqlite"
	"github.com/firnhq/firn/internal/policy"
)

func open(t *testing.T) *Service {
	t.Helper()
	ms, err := sqlite.Open(filepath.Join(t.TempDir(), "meta.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ms.Close() })
	return New(ms, "ROOTKEY", "rootsecret", nil)
}

func TestUsersAndKeys(t *testing.T) {
	ctx := context.Background()
	s := open(t)
	if secret, id, err := s.Lookup(ctx, "ROOTKEY"); err != nil || secret != "rootsecret" || id.Kind != Root || id.ARN() != "arn:aws:iam::000000000000:root" {
		t.Fatalf("root lookup: %q %+v %v", secret, id, err)
	}
	if _, _, err := s.Lookup(ctx, "NOPE"); !errors.Is(err, ErrUnknownKey) {
		t.Errorf("unknown key: %v", err)
	}
	for _, bad := range []string{"", "has space", "slash/name", string(make([]byte, 65))} {
		if _, err := s.AddUser(ctx, bad); !errors.Is(err, ErrInvalidUserName) {
			t.Errorf("AddUser(%q): %v", bad, err)
		}
	}
	if _, err := s.AddUser(ctx, "backup"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddUser(ctx, "backup"); !errors.Is(err, meta.ErrUserExists) {
		t.Errorf("AddUser twice: %v", err)
	}
	k, err := s.CreateKey(ctx, "backup")
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^FK[A-Z2-7]{18}$`).MatchString(k.ID) || !regexp.MustCompile(`^[A-Za-z0-9]{40}$`).MatchString(k.Secret) {
		t.Errorf("key format: %q %q", k.ID, k.Secret)
	}
	secret, id, err := s.Lookup(ctx, k.ID)
	if err != nil || secret != k.Secret || id.Kind != User || id.User != "backup" || id.ARN() != "arn:aws:iam::000000000000:user/backup" {
		t.Errorf("user lookup: %q %+v %v", secret, id, err)
	}
	if ks, _ := s.ListKeys(ctx, "backup"); len(ks) != 1 || ks[0].Secret != "" {
		t.Errorf("ListKeys shows secrets or misses keys: %+v", ks)
	}
	if _, err := s.CreateKey(ctx, "nobody"); !errors.Is(err, meta.ErrNoSuchUser) {
		t.Errorf("key for a missing user: %v", err)
	}

	// Policies: checked on the way in, parsed once per document.
	var pe *policy.Error
	if err := s.PutUserPolicy(ctx, "backup", []byte(`{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"*"}]}`)); !errors.As(err, &pe) {
		t.Errorf("identity policy naming a principal: %v", err)
	}
	if p, err := s.UserPolicy(ctx, "backup"); err != nil || p != nil {
		t.Errorf("no policy yet: %v %v", p, err)
	}
	doc := []byte(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}]}`)
	if err := s.PutUserPolicy(ctx, "backup", doc); err != nil {
		t.Fatal(err)
	}
	p1, err := s.UserPolicy(ctx, "backup")
	if err != nil || p1 == nil {
		t.Fatalf("UserPolicy: %v", err)
	}
	if p2, _ := s.UserPolicy(ctx, "backup"); p2 != p1 {
		t.Error("the parsed policy is not reused")
	}
	req := policy.Request{Principal: id.ARN(), Action: "s3:GetObject", Resource: "arn:aws:s3:::b/k"}
	if p1.Evaluate(req) != policy.Allow {
		t.Error("attached policy does not allow what it says")
	}
	if err := s.RevokeKey(ctx, k.ID); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Lookup(ctx, k.ID); !errors.Is(err, ErrUnknownKey) {
		t.Errorf("revoked key: %v", err)
	}
	if err := s.RemoveUser(ctx, "backup"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.UserPolicy(ctx, "backup"); !errors.Is(err, meta.ErrNoSuchUser) {
		t.Errorf("policy of a removed user: %v", err)
	}
}

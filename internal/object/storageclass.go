package object

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/firnhq/firn/internal/blob"
	"github.com/firnhq/firn/internal/lifecycle"
)

// StorageClass names, as S3 spells them (the lifecycle rules use the
// same).
const (
	Standard           = lifecycle.Standard
	ReducedRedundancy  = lifecycle.ReducedRedundancy
	StandardIA         = lifecycle.StandardIA
	OnezoneIA          = lifecycle.OnezoneIA
	IntelligentTiering = lifecycle.IntelligentTiering
	GlacierIR          = lifecycle.GlacierIR
	Glacier            = lifecycle.Glacier
	DeepArchive        = lifecycle.DeepArchive
)

// storageClasses are the classes firn accepts on PUT, COPY and multipart.
var storageClasses = map[string]bool{
	Standard: true, ReducedRedundancy: true, StandardIA: true, OnezoneIA: true,
	IntelligentTiering: true, GlacierIR: true, Glacier: true, DeepArchive: true,
}

// ArchiveTier is the name of the archive tier in segments and
// ClassTiers; the hot tier's name is "".
const ArchiveTier = "archive"

// RemoteTier is the name of the remote tier (a bucket on another
// S3-compatible service) in segments and ClassTiers.
const RemoteTier = "remote"

// DefaultClassTiers maps every class to its default tier: GLACIER_IR,
// GLACIER and DEEP_ARCHIVE to the archive store, the others to the hot
// store.
func DefaultClassTiers() map[string]string {
	m := make(map[string]string, len(storageClasses))
	for c := range storageClasses {
		m[c] = ""
	}
	m[GlacierIR], m[Glacier], m[DeepArchive] = ArchiveTier, ArchiveTier, ArchiveTier
	return m
}

// ParseClassTiers reads a class-to-tier mapping written as
// "CLASS=tier,..." where tier is hot, archive or remote:
// "GLACIER=remote,DEEP_ARCHIVE=remote". Classes not named keep their
// default tier.
func ParseClassTiers(s string) (map[string]string, error) {
	m := map[string]string{}
	for _, item := range strings.Split(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		class, tier, ok := strings.Cut(item, "=")
		class, tier = strings.TrimSpace(class), strings.TrimSpace(tier)
		if !ok || !storageClasses[class] {
			return nil, fmt.Errorf("class tier %q: want CLASS=tier with a storage class such as GLACIER", item)
		}
		switch tier {
		case "hot":
			m[class] = ""
		case ArchiveTier, RemoteTier:
			m[class] = tier
		default:
			return nil, fmt.Errorf("class tier %q: tier must be hot, archive or remote", item)
		}
	}
	return m, nil
}

// RestoreRequired reports whether objects of class must be restored
// before they can be read (GLACIER and DEEP_ARCHIVE).
func RestoreRequired(class string) bool { return class == Glacier || class == DeepArchive }

// tierOf returns the tier a class is stored on: the hot tier when the
// class's tier has no store configured.
func (s *Service) tierOf(class string) string {
	t := s.classTiers[class]
	if s.tiers[t] == nil {
		return ""
	}
	return t
}

// storeOf returns the store of a tier.
func (s *Service) storeOf(tier string) blob.Store {
	if st := s.tiers[tier]; st != nil {
		return st
	}
	return s.blobs
}

// stores returns every configured store, the hot one first.
func (s *Service) stores() []blob.Store {
	out := []blob.Store{s.blobs}
	for _, name := range slices.Sorted(maps.Keys(s.tiers)) {
		out = append(out, s.tiers[name])
	}
	return out
}

// ArchivedError is returned when an archived object's bytes are asked for
// before a restore made them readable. The protocol layer answers S3's
// 403 InvalidObjectState with the class.
type ArchivedError struct {
	StorageClass string
	AccessTier   string // Intelligent-Tiering archive tier, if any
}

func (e *ArchivedError) Error() string {
	return "object is archived in " + e.StorageClass + ": restore it first"
}

// ValidStorageClass reports whether name is a storage class firn stores.
func ValidStorageClass(name string) bool { return storageClasses[name] }

// normClass returns the class to store for a requested name ("" is
// STANDARD), or ErrInvalidStorageClass.
func normClass(name string) (string, error) {
	if name == "" {
		return Standard, nil
	}
	if !storageClasses[name] {
		return "", wrap(ErrInvalidStorageClass, "%q", name)
	}
	return name, nil
}

package object

import "github.com/firnhq/firn/internal/blob"

// StorageClass names, as S3 spells them.
const (
	Standard           = "STANDARD"
	ReducedRedundancy  = "REDUCED_REDUNDANCY"
	StandardIA         = "STANDARD_IA"
	OnezoneIA          = "ONEZONE_IA"
	IntelligentTiering = "INTELLIGENT_TIERING"
	GlacierIR          = "GLACIER_IR"
	Glacier            = "GLACIER"
	DeepArchive        = "DEEP_ARCHIVE"
)

// storageClasses are the classes firn accepts on PUT, COPY and multipart.
var storageClasses = map[string]bool{
	Standard: true, ReducedRedundancy: true, StandardIA: true, OnezoneIA: true,
	IntelligentTiering: true, GlacierIR: true, Glacier: true, DeepArchive: true,
}

// ArchiveTier is the name of the archive tier in segments and
// ClassTiers; the hot tier's name is "".
const ArchiveTier = "archive"

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

// RestoreRequired reports whether objects of class must be restored
// before they can be read (GLACIER and DEEP_ARCHIVE).
func RestoreRequired(class string) bool { return class == Glacier || class == DeepArchive }

// tierOf returns the tier a class is stored on: the archive tier only when
// an archive store is configured.
func (s *Service) tierOf(class string) string {
	if s.archive == nil {
		return ""
	}
	return s.classTiers[class]
}

// storeOf returns the store of a tier.
func (s *Service) storeOf(tier string) blob.Store {
	if tier == ArchiveTier && s.archive != nil {
		return s.archive
	}
	return s.blobs
}

// stores returns every configured store.
func (s *Service) stores() []blob.Store {
	if s.archive != nil {
		return []blob.Store{s.blobs, s.archive}
	}
	return []blob.Store{s.blobs}
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

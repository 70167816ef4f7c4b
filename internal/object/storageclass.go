package object

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

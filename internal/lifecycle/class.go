package lifecycle

// Storage classes, as S3 spells them. The six classes after Standard are
// the ones a lifecycle rule may transition to.
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

// ValidTransitionClass reports whether class is a TransitionStorageClass:
// one a Transition or NoncurrentVersionTransition may name.
func ValidTransitionClass(class string) bool {
	_, ok := orderRank[class]
	return ok
}

// orderRank is the order in which the transitions of one rule must
// happen: a class of a higher rank needs strictly more days (or a later
// date) than one of a lower rank. Classes of the same rank are not
// ordered against each other.
var orderRank = map[string]int{
	StandardIA: 1, IntelligentTiering: 1, OnezoneIA: 1,
	GlacierIR:   2,
	Glacier:     3,
	DeepArchive: 4,
}

// preference ranks transitions due at the same time: the highest wins.
// It follows S3's "cheapest path" rule, with Intelligent-Tiering favoured
// over every class but GLACIER and DEEP_ARCHIVE.
var preference = map[string]int{
	StandardIA: 1, OnezoneIA: 2, GlacierIR: 3, IntelligentTiering: 4, Glacier: 5, DeepArchive: 6,
}

// waterfall lists, for each class an object may be in, the classes a
// lifecycle transition may move it to (the "waterfall" of S3's
// transition considerations). Nothing transitions to STANDARD.
var waterfall = map[string]map[string]bool{
	Standard:           {StandardIA: true, IntelligentTiering: true, OnezoneIA: true, GlacierIR: true, Glacier: true, DeepArchive: true},
	ReducedRedundancy:  {StandardIA: true, IntelligentTiering: true, OnezoneIA: true, GlacierIR: true, Glacier: true, DeepArchive: true},
	StandardIA:         {IntelligentTiering: true, OnezoneIA: true, GlacierIR: true, Glacier: true, DeepArchive: true},
	IntelligentTiering: {OnezoneIA: true, GlacierIR: true, Glacier: true, DeepArchive: true},
	OnezoneIA:          {Glacier: true, DeepArchive: true},
	GlacierIR:          {Glacier: true, DeepArchive: true},
	Glacier:            {DeepArchive: true},
}

// CanTransition reports whether a lifecycle rule may move an object from
// class from ("" is STANDARD) to class to.
func CanTransition(from, to string) bool {
	if from == "" {
		from = Standard
	}
	return waterfall[from][to]
}

// infrequentAccess reports whether class has S3's 30-day minimum age for
// lifecycle transitions.
func infrequentAccess(class string) bool { return class == StandardIA || class == OnezoneIA }

// MinimumSize is the x-amz-transition-default-minimum-object-size
// setting: which objects too small to be worth moving are kept from
// transitions by default. The zero value means AllStorageClasses128K.
type MinimumSize string

// The two MinimumSize settings S3 defines.
const (
	// AllStorageClasses128K keeps objects under 128 KiB from every
	// transition. S3's default since September 2024.
	AllStorageClasses128K MinimumSize = "all_storage_classes_128K"
	// VariesByStorageClass lets objects under 128 KiB transition to
	// GLACIER and DEEP_ARCHIVE only (S3's earlier behaviour).
	VariesByStorageClass MinimumSize = "varies_by_storage_class"
)

// SmallObject is the size under which objects are not transitioned by
// default: 128 KiB.
const SmallObject = 128 << 10

// ParseMinimumSize reads the x-amz-transition-default-minimum-object-size
// header of PutBucketLifecycleConfiguration; an empty value is the
// default. Any other value is an InvalidRequest *Error.
func ParseMinimumSize(header string) (MinimumSize, error) {
	switch MinimumSize(header) {
	case "", AllStorageClasses128K:
		return AllStorageClasses128K, nil
	case VariesByStorageClass:
		return VariesByStorageClass, nil
	}
	return "", invalidRequest("Invalid TransitionDefaultMinimumObjectSize found: %s", header)
}

// String returns the header value, the default for the zero value.
func (m MinimumSize) String() string {
	if m == "" {
		return string(AllStorageClasses128K)
	}
	return string(m)
}

// blocks reports whether the setting keeps an object of size bytes from
// transitioning to class.
func (m MinimumSize) blocks(size int64, class string) bool {
	if size >= SmallObject {
		return false
	}
	if m == VariesByStorageClass {
		return class != Glacier && class != DeepArchive
	}
	return true
}

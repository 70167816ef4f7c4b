package object

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/firnhq/firn/internal/blob"
	"github.com/firnhq/firn/internal/meta"
	"github.com/firnhq/firn/internal/sse"
)

// Server-side encryption algorithms, as S3 names them.
const (
	SSEAES256  = "AES256"       // SSE-S3 (and the SSE-C customer algorithm)
	SSEKMS     = "aws:kms"      // not served without a KMS
	SSEKMSDSSE = "aws:kms:dsse" // not served without a KMS
	sseC       = "SSE-C"        // meta.Encryption.Algorithm of SSE-C objects
)

// Errors of encryption at rest.
var (
	// ErrSSENotConfigured: SSE-S3 asked of a server without master keys.
	ErrSSENotConfigured = errors.New("SSE-S3 needs a master key: start firn with --master-key-file or FIRN_MASTER_KEY")
	// ErrKMSNotConfigured: aws:kms asked of a server without a KMS.
	ErrKMSNotConfigured = errors.New("no KMS is configured for aws:kms encryption")
	// ErrSSECRequired: an SSE-C object read without its key.
	ErrSSECRequired = errors.New("the object was stored using a form of Server Side Encryption; the correct parameters must be provided to retrieve the object")
	// ErrSSECNotApplicable: an SSE-C key sent for an object without SSE-C.
	ErrSSECNotApplicable = errors.New("the encryption parameters are not applicable to this object")
	// ErrSSECKeyMismatch: an SSE-C key that is not the object's.
	ErrSSECKeyMismatch = errors.New("the SSE-C key does not match the object's")
	// ErrInvalidEncryptionAlgorithm: an x-amz-server-side-encryption
	// value firn does not know.
	ErrInvalidEncryptionAlgorithm = errors.New("invalid server-side encryption algorithm")
	// ErrNoSuchEncryptionConfiguration: a bucket without default
	// encryption, on a server without master keys.
	ErrNoSuchEncryptionConfiguration = errors.New("no server-side encryption configuration")
)

// SSE is what a request asks of encryption at rest.
type SSE struct {
	// Algorithm is x-amz-server-side-encryption ("" for the bucket's
	// default).
	Algorithm string
	// CustomerKey is the SSE-C key (32 bytes, its MD5 already checked by
	// the protocol layer), nil without SSE-C.
	CustomerKey []byte
}

// BucketEncryption is a bucket's default encryption.
type BucketEncryption struct {
	Algorithm        string `json:"a"` // AES256, aws:kms or aws:kms:dsse
	KMSMasterKeyID   string `json:"k,omitempty"`
	BucketKeyEnabled bool   `json:"b,omitempty"`
}

const encryptionConfigName = "encryption"

// checkAlgorithm refuses encryption firn cannot give.
func (s *Service) checkAlgorithm(alg string) error {
	switch alg {
	case "":
	case SSEAES256:
		if s.keys == nil {
			return ErrSSENotConfigured
		}
	case SSEKMS, SSEKMSDSSE:
		return ErrKMSNotConfigured
	default:
		return wrap(ErrInvalidEncryptionAlgorithm, "%q", alg)
	}
	return nil
}

// PutBucketEncryption sets bucket's default encryption.
func (s *Service) PutBucketEncryption(ctx context.Context, bucket string, c BucketEncryption) error {
	if c.Algorithm == "" {
		return wrap(ErrInvalidEncryptionAlgorithm, "missing")
	}
	if err := s.checkAlgorithm(c.Algorithm); err != nil {
		return err
	}
	v, err := json.Marshal(c)
	if err != nil {
		return err
	}
	err = s.meta.PutBucketConfig(ctx, bucket, encryptionConfigName, v)
	s.encryptions.forget(bucket)
	return err
}

// GetBucketEncryption returns bucket's default encryption: as set, or
// SSE-S3 on a server with master keys (as S3 encrypts every new object
// since 2023). ErrNoSuchEncryptionConfiguration, meta.ErrNoSuchBucket.
func (s *Service) GetBucketEncryption(ctx context.Context, bucket string) (BucketEncryption, error) {
	c, err := s.encryptions.get(ctx, bucket, s.loadEncryption)
	if err != nil {
		return BucketEncryption{}, err
	}
	if c.Algorithm == "" {
		return c, wrap(ErrNoSuchEncryptionConfiguration, "bucket %q", bucket)
	}
	return c, nil
}

// DeleteBucketEncryption resets bucket's default encryption.
func (s *Service) DeleteBucketEncryption(ctx context.Context, bucket string) error {
	err := s.meta.DeleteBucketConfig(ctx, bucket, encryptionConfigName)
	s.encryptions.forget(bucket)
	return err
}

func (s *Service) loadEncryption(ctx context.Context, bucket string) (BucketEncryption, error) {
	v, err := s.meta.GetBucketConfig(ctx, bucket, encryptionConfigName)
	if err != nil {
		return BucketEncryption{}, err
	}
	var c BucketEncryption
	if v != nil {
		if err := json.Unmarshal(v, &c); err != nil {
			return c, fmt.Errorf("encryption configuration of %q: %w", bucket, err)
		}
	} else if s.keys != nil {
		c.Algorithm = SSEAES256
	}
	return c, nil
}

// seal decides how a new object in bucket is encrypted under req, and
// returns its encryption record and object key (both nil: plaintext).
func (s *Service) seal(ctx context.Context, bucket string, req SSE) (*meta.Encryption, []byte, error) {
	if req.CustomerKey != nil {
		if req.Algorithm != "" {
			return nil, nil, &InvalidArgumentError{Name: "x-amz-server-side-encryption", Value: req.Algorithm,
				Msg: "Server Side Encryption with Customer provided key is incompatible with the encryption method specified"}
		}
		k := sse.NewKey()
		w, err := sse.WrapCustomer(req.CustomerKey, k)
		if err != nil {
			return nil, nil, err
		}
		return &meta.Encryption{Algorithm: sseC, WrappedKey: w, CustomerKeyMD5: sse.KeyMD5(req.CustomerKey)}, k, nil
	}
	alg := req.Algorithm
	if alg == "" {
		c, err := s.encryptions.get(ctx, bucket, s.loadEncryption)
		if err != nil {
			return nil, nil, err
		}
		alg = c.Algorithm
	}
	if err := s.checkAlgorithm(alg); err != nil || alg == "" {
		return nil, nil, err
	}
	k := sse.NewKey()
	id, w, err := s.keys.Wrap(ctx, k)
	if err != nil {
		return nil, nil, err
	}
	return &meta.Encryption{Algorithm: SSEAES256, KeyID: id, WrappedKey: w}, k, nil
}

// objectKey returns the key of o's bytes (nil for plaintext), given the
// SSE-C key a request carried (nil if none).
func (s *Service) objectKey(ctx context.Context, e *meta.Encryption, customerKey []byte) ([]byte, error) {
	switch {
	case e == nil:
		if customerKey != nil {
			return nil, ErrSSECNotApplicable
		}
		return nil, nil
	case e.Algorithm == sseC:
		if customerKey == nil {
			return nil, ErrSSECRequired
		}
		if subtle.ConstantTimeCompare([]byte(sse.KeyMD5(customerKey)), []byte(e.CustomerKeyMD5)) != 1 {
			return nil, ErrSSECKeyMismatch
		}
		k, err := sse.UnwrapCustomer(customerKey, e.WrappedKey)
		if err != nil {
			return nil, ErrSSECKeyMismatch
		}
		return k, nil
	default:
		if customerKey != nil {
			return nil, ErrSSECNotApplicable
		}
		if s.keys == nil {
			return nil, fmt.Errorf("object encrypted under master key %q: %w", e.KeyID, ErrSSENotConfigured)
		}
		return s.keys.Unwrap(ctx, e.KeyID, e.WrappedKey)
	}
}

// CheckCustomerKey reports whether a read of o with customerKey may go
// on (HEAD needs the SSE-C key as GET does).
func (s *Service) CheckCustomerKey(o *meta.Object, customerKey []byte) error {
	if o.Encryption == nil || o.Encryption.Algorithm != sseC {
		if customerKey != nil {
			return ErrSSECNotApplicable
		}
		return nil
	}
	_, err := s.objectKey(context.Background(), o.Encryption, customerKey)
	return err
}

// streamKey is the key of an object's stream part, nil for plaintext.
func streamKey(objKey []byte, part int) []byte {
	if objKey == nil {
		return nil
	}
	return sse.StreamKey(objKey, part)
}

// copyRaw copies an encrypted object's stored bytes (its ciphertext,
// stream by stream) onto tier without decrypting them, as transitions
// and restores do: the server may not hold an SSE-C key. The segments
// returned keep their parts and plaintext sizes; the caller untracks
// them once referenced (or frees them).
func (s *Service) copyRaw(ctx context.Context, tier string, label blob.Label, segs []meta.Segment, inline []byte, size int64) ([]meta.Segment, error) {
	var out []meta.Segment
	fail := func(err error) ([]meta.Segment, error) {
		for _, sg := range out {
			s.untrack(sg.BlobID)
		}
		s.free(ctx, meta.SegmentIDs(out))
		return nil, err
	}
	if len(segs) == 0 {
		if len(inline) == 0 {
			return nil, nil
		}
		d, err := s.receive(ctx, tier, label, bytes.NewReader(inline), int64(len(inline)), MaxObjectSize+1<<30, -1, Integrity{}, nil)
		if err != nil {
			return nil, err
		}
		return []meta.Segment{{BlobID: d.blobID, Size: size, Tier: d.tier}}, nil
	}
	for _, sg := range segs {
		n := sse.EncryptedSize(sg.Size)
		rc, err := s.storeOf(sg.Tier).Open(ctx, sg.BlobID, 0, n)
		if err != nil {
			return fail(err)
		}
		d, err := s.receive(ctx, tier, label, rc, n, MaxObjectSize+1<<30, -1, Integrity{}, nil)
		rc.Close()
		if err != nil {
			return fail(err)
		}
		out = append(out, meta.Segment{BlobID: d.blobID, Size: sg.Size, Tier: d.tier, Part: sg.Part})
	}
	return out, nil
}

// decryptInline returns the plaintext of an encrypted object's inline
// bytes.
func decryptInline(inline, objKey []byte) ([]byte, error) {
	p, err := sse.Open(inline, sse.StreamKey(objKey, 0))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", blob.ErrCorrupt, err)
	}
	return p, nil
}

// openEncrypted opens n plaintext bytes from off of one encrypted
// segment range.
func (s *Service) openEncrypted(ctx context.Context, p segRange) (io.ReadCloser, error) {
	st := s.storeOf(p.tier)
	return sse.DecryptRange(func(off, n int64) (io.ReadCloser, error) {
		return st.Open(ctx, p.id, off, n)
	}, p.key, p.size, p.off, p.n)
}

// RewrapResult counts what RewrapKeys did.
type RewrapResult struct {
	Checked   int // encrypted SSE-S3 versions looked at
	Rewrapped int // of them, moved to the current master key
	// Uploads are incomplete multipart uploads still under an older
	// key; their objects are rewrapped by a run after they complete.
	Uploads int
}

// RewrapKeys moves the object key of every SSE-S3 object version that is
// wrapped under another master key to the current one, without reading
// or rewriting any data, so the old master key can then be retired.
// progress, if set, is called after every batch.
func (s *Service) RewrapKeys(ctx context.Context, progress func(RewrapResult)) (RewrapResult, error) {
	var res RewrapResult
	kr, ok := s.keys.(interface{ CurrentID() string })
	if s.keys == nil || !ok {
		return res, ErrSSENotConfigured
	}
	current := kr.CurrentID()
	buckets, err := s.meta.ListBuckets(ctx)
	if err != nil {
		return res, err
	}
	for _, b := range buckets {
		afterKey, afterVer := "", ""
		for {
			vs, err := s.meta.ScanVersions(ctx, b.Name, "", afterKey, afterVer, 1000)
			if err != nil {
				return res, err
			}
			for _, v := range vs {
				e := v.Encryption
				if e == nil || e.Algorithm != SSEAES256 {
					continue
				}
				res.Checked++
				if e.KeyID == current {
					continue
				}
				err := s.meta.UpdateVersion(ctx, b.Name, v.Key, v.VersionID, func(o *meta.Object) error {
					if o.Encryption == nil || o.Encryption.KeyID == current {
						return nil
					}
					k, err := s.keys.Unwrap(ctx, o.Encryption.KeyID, o.Encryption.WrappedKey)
					if err != nil {
						return fmt.Errorf("%s/%s version %s: %w", b.Name, o.Key, o.VersionID, err)
					}
					id, w, err := s.keys.Wrap(ctx, k)
					if err != nil {
						return err
					}
					o.Encryption = &meta.Encryption{Algorithm: SSEAES256, KeyID: id, WrappedKey: w}
					return nil
				})
				if err != nil && !errors.Is(err, meta.ErrNoSuchVersion) && !errors.Is(err, meta.ErrNoSuchKey) {
					return res, err
				}
				if err == nil {
					res.Rewrapped++
				}
			}
			if progress != nil {
				progress(res)
			}
			if len(vs) < 1000 {
				break
			}
			afterKey, afterVer = vs[len(vs)-1].Key, vs[len(vs)-1].VersionID
		}
		afterKey, afterID := "", ""
		for {
			us, err := s.meta.ScanUploads(ctx, b.Name, "", afterKey, afterID, 1000)
			if err != nil {
				return res, err
			}
			for _, u := range us {
				if e := u.Template.Encryption; e != nil && e.Algorithm == SSEAES256 && e.KeyID != current {
					res.Uploads++
				}
			}
			if len(us) < 1000 {
				break
			}
			afterKey, afterID = us[len(us)-1].Key, us[len(us)-1].ID
		}
	}
	return res, nil
}

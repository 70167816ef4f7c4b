package policy

import "strings"

// resourceKind says which resources of a bucket policy an S3 action can
// apply to.
type resourceKind uint8

const (
	onBucket resourceKind = 1 << iota // arn:aws:s3:::bucket
	onObject                          // arn:aws:s3:::bucket/key
	onOther                           // the account, access points, jobs, Storage Lens, ...
)

// s3Actions is the catalog of S3 actions (names as in the IAM service
// authorization reference) with the resource types each applies to.
// ParseBucket refuses an action that matches none of them.
var s3Actions = map[string]resourceKind{
	// Objects.
	"AbortMultipartUpload":                     onObject,
	"BypassGovernanceRetention":                onObject,
	"DeleteObject":                             onObject,
	"DeleteObjectAnnotation":                   onObject,
	"DeleteObjectTagging":                      onObject,
	"DeleteObjectVersion":                      onObject,
	"DeleteObjectVersionAnnotation":            onObject,
	"DeleteObjectVersionTagging":               onObject,
	"GetObject":                                onObject,
	"GetObjectAcl":                             onObject,
	"GetObjectAnnotation":                      onObject,
	"GetObjectAttributes":                      onObject,
	"GetObjectLegalHold":                       onObject,
	"GetObjectRetention":                       onObject,
	"GetObjectTagging":                         onObject,
	"GetObjectTorrent":                         onObject,
	"GetObjectVersion":                         onObject,
	"GetObjectVersionAcl":                      onObject,
	"GetObjectVersionAnnotation":               onObject,
	"GetObjectVersionAnnotationForReplication": onObject,
	"GetObjectVersionAttributes":               onObject,
	"GetObjectVersionForReplication":           onObject,
	"GetObjectVersionTagging":                  onObject,
	"GetObjectVersionTorrent":                  onObject,
	"InitiateReplication":                      onObject,
	"ListMultipartUploadParts":                 onObject,
	"ListObjectAnnotations":                    onObject,
	"ListObjectVersionAnnotations":             onObject,
	"ObjectOwnerOverrideToBucketOwner":         onObject,
	"PutObject":                                onObject,
	"PutObjectAcl":                             onObject,
	"PutObjectAnnotation":                      onObject,
	"PutObjectLegalHold":                       onObject,
	"PutObjectRetention":                       onObject,
	"PutObjectTagging":                         onObject,
	"PutObjectVersionAcl":                      onObject,
	"PutObjectVersionAnnotation":               onObject,
	"PutObjectVersionTagging":                  onObject,
	"ReplicateDelete":                          onObject,
	"ReplicateObject":                          onObject,
	"ReplicateObjectAnnotation":                onObject,
	"ReplicateTags":                            onObject,
	"RestoreObject":                            onObject,
	"UpdateObjectEncryption":                   onObject,

	// Buckets.
	"AllowVendedLogDeliveryForResource":                onBucket,
	"CreateBucket":                                     onBucket,
	"CreateBucketMetadataTableConfiguration":           onBucket,
	"DeleteBucket":                                     onBucket,
	"DeleteBucketMetadataTableConfiguration":           onBucket,
	"DeleteBucketPolicy":                               onBucket,
	"DeleteBucketWebsite":                              onBucket,
	"GetAccelerateConfiguration":                       onBucket,
	"GetAnalyticsConfiguration":                        onBucket,
	"GetBucketAbac":                                    onBucket,
	"GetBucketAcl":                                     onBucket,
	"GetBucketCORS":                                    onBucket,
	"GetBucketLocation":                                onBucket,
	"GetBucketLogging":                                 onBucket,
	"GetBucketMetadataTableConfiguration":              onBucket,
	"GetBucketNotification":                            onBucket,
	"GetBucketObjectLockConfiguration":                 onBucket,
	"GetBucketOwnershipControls":                       onBucket,
	"GetBucketPolicy":                                  onBucket,
	"GetBucketPolicyStatus":                            onBucket,
	"GetBucketPublicAccessBlock":                       onBucket,
	"GetBucketRequestPayment":                          onBucket,
	"GetBucketTagging":                                 onBucket,
	"GetBucketVersioning":                              onBucket,
	"GetBucketWebsite":                                 onBucket,
	"GetEncryptionConfiguration":                       onBucket,
	"GetIntelligentTieringConfiguration":               onBucket,
	"GetInventoryConfiguration":                        onBucket,
	"GetLifecycleConfiguration":                        onBucket,
	"GetMetricsConfiguration":                          onBucket,
	"GetReplicationConfiguration":                      onBucket,
	"ListBucket":                                       onBucket,
	"ListBucketMultipartUploads":                       onBucket,
	"ListBucketVersions":                               onBucket,
	"PutAccelerateConfiguration":                       onBucket,
	"PutAnalyticsConfiguration":                        onBucket,
	"PutBucketAbac":                                    onBucket,
	"PutBucketAcl":                                     onBucket,
	"PutBucketCORS":                                    onBucket,
	"PutBucketLogging":                                 onBucket,
	"PutBucketNotification":                            onBucket,
	"PutBucketObjectLockConfiguration":                 onBucket,
	"PutBucketOwnershipControls":                       onBucket,
	"PutBucketPolicy":                                  onBucket,
	"PutBucketPublicAccessBlock":                       onBucket,
	"PutBucketRequestPayment":                          onBucket,
	"PutBucketTagging":                                 onBucket,
	"PutBucketVersioning":                              onBucket,
	"PutBucketWebsite":                                 onBucket,
	"PutEncryptionConfiguration":                       onBucket,
	"PutIntelligentTieringConfiguration":               onBucket,
	"PutInventoryConfiguration":                        onBucket,
	"PutLifecycleConfiguration":                        onBucket,
	"PutMetricsConfiguration":                          onBucket,
	"PutReplicationConfiguration":                      onBucket,
	"UpdateBucketMetadataAnnotationTableConfiguration": onBucket,
	"UpdateBucketMetadataInventoryTableConfiguration":  onBucket,
	"UpdateBucketMetadataJournalTableConfiguration":    onBucket,

	// Tagging actions that take a bucket as well as S3 Control resources.
	"ListTagsForResource": onBucket | onOther,
	"TagResource":         onBucket | onOther,
	"UntagResource":       onBucket | onOther,

	// The account, access points, Object Lambda, Multi-Region Access
	// Points, Batch Operations jobs, Storage Lens and Access Grants.
	"AssociateAccessGrantsIdentityCenter":        onOther,
	"CreateAccessGrant":                          onOther,
	"CreateAccessGrantsInstance":                 onOther,
	"CreateAccessGrantsLocation":                 onOther,
	"CreateAccessPoint":                          onOther,
	"CreateAccessPointForObjectLambda":           onOther,
	"CreateJob":                                  onOther,
	"CreateMultiRegionAccessPoint":               onOther,
	"CreateStorageLensGroup":                     onOther,
	"DeleteAccessGrant":                          onOther,
	"DeleteAccessGrantsInstance":                 onOther,
	"DeleteAccessGrantsInstanceResourcePolicy":   onOther,
	"DeleteAccessGrantsLocation":                 onOther,
	"DeleteAccessPoint":                          onOther,
	"DeleteAccessPointForObjectLambda":           onOther,
	"DeleteAccessPointPolicy":                    onOther,
	"DeleteAccessPointPolicyForObjectLambda":     onOther,
	"DeleteJobTagging":                           onOther,
	"DeleteMultiRegionAccessPoint":               onOther,
	"DeleteStorageLensConfiguration":             onOther,
	"DeleteStorageLensConfigurationTagging":      onOther,
	"DeleteStorageLensGroup":                     onOther,
	"DescribeJob":                                onOther,
	"DescribeMultiRegionAccessPointOperation":    onOther,
	"DissociateAccessGrantsIdentityCenter":       onOther,
	"GetAccessGrant":                             onOther,
	"GetAccessGrantsInstance":                    onOther,
	"GetAccessGrantsInstanceForPrefix":           onOther,
	"GetAccessGrantsInstanceResourcePolicy":      onOther,
	"GetAccessGrantsLocation":                    onOther,
	"GetAccessPoint":                             onOther,
	"GetAccessPointConfigurationForObjectLambda": onOther,
	"GetAccessPointForObjectLambda":              onOther,
	"GetAccessPointPolicy":                       onOther,
	"GetAccessPointPolicyForObjectLambda":        onOther,
	"GetAccessPointPolicyStatus":                 onOther,
	"GetAccessPointPolicyStatusForObjectLambda":  onOther,
	"GetAccountPublicAccessBlock":                onOther,
	"GetDataAccess":                              onOther,
	"GetJobTagging":                              onOther,
	"GetMultiRegionAccessPoint":                  onOther,
	"GetMultiRegionAccessPointPolicy":            onOther,
	"GetMultiRegionAccessPointPolicyStatus":      onOther,
	"GetMultiRegionAccessPointRoutes":            onOther,
	"GetStorageLensConfiguration":                onOther,
	"GetStorageLensConfigurationTagging":         onOther,
	"GetStorageLensDashboard":                    onOther,
	"GetStorageLensGroup":                        onOther,
	"ListAccessGrants":                           onOther,
	"ListAccessGrantsInstances":                  onOther,
	"ListAccessGrantsLocations":                  onOther,
	"ListAccessPoints":                           onOther,
	"ListAccessPointsForObjectLambda":            onOther,
	"ListAllMyBuckets":                           onOther,
	"ListCallerAccessGrants":                     onOther,
	"ListJobs":                                   onOther,
	"ListMultiRegionAccessPoints":                onOther,
	"ListStorageLensConfigurations":              onOther,
	"ListStorageLensGroups":                      onOther,
	"PutAccessGrantsInstanceResourcePolicy":      onOther,
	"PutAccessPointConfigurationForObjectLambda": onOther,
	"PutAccessPointPolicy":                       onOther,
	"PutAccessPointPolicyForObjectLambda":        onOther,
	"PutAccessPointPublicAccessBlock":            onOther,
	"PutAccountPublicAccessBlock":                onOther,
	"PutJobTagging":                              onOther,
	"PutMultiRegionAccessPointPolicy":            onOther,
	"PutStorageLensConfiguration":                onOther,
	"PutStorageLensConfigurationTagging":         onOther,
	"SubmitMultiRegionAccessPointRoutes":         onOther,
	"UpdateAccessGrantsLocation":                 onOther,
	"UpdateJobPriority":                          onOther,
	"UpdateJobStatus":                            onOther,
	"UpdateStorageLensGroup":                     onOther,
}

// s3ActionNames holds the lower-cased names of s3Actions, as runes, for
// matching wildcard patterns against the catalog.
var s3ActionNames = func() map[string][]rune {
	m := make(map[string][]rune, len(s3Actions))
	for name := range s3Actions {
		m[name] = []rune(strings.ToLower(name))
	}
	return m
}()

// s3ActionKinds returns the union of the resource kinds of the catalog
// actions that the lower-cased action-name pattern matches (0 if none).
func s3ActionKinds(pat []rune) resourceKind {
	var kinds resourceKind
	for name, lower := range s3ActionNames {
		if matchTokens(pat, lower) {
			kinds |= s3Actions[name]
		}
	}
	return kinds
}

// globalKeys are the global condition keys ("aws:..."), lower-cased.
var globalKeys = keySet(
	"aws:AssumedRoot", "aws:CalledVia", "aws:CalledViaFirst", "aws:CalledViaLast",
	"aws:ChatbotSourceArn", "aws:CurrentTime", "aws:Ec2InstanceSourcePrivateIPv4",
	"aws:Ec2InstanceSourceVpc", "aws:EpochTime", "aws:FederatedProvider",
	"aws:MultiFactorAuthAge", "aws:MultiFactorAuthPresent", "aws:PrincipalAccount",
	"aws:PrincipalArn", "aws:PrincipalIsAWSService", "aws:PrincipalOrgID",
	"aws:PrincipalOrgPaths", "aws:PrincipalServiceName", "aws:PrincipalServiceNamesList",
	"aws:PrincipalType", "aws:Referer", "aws:RequestedRegion", "aws:ResourceAccount",
	"aws:ResourceOrgID", "aws:ResourceOrgPaths", "aws:SecureTransport",
	"aws:SourceAccount", "aws:SourceArn", "aws:SourceIdentity", "aws:SourceIp",
	"aws:SourceOrgID", "aws:SourceOrgPaths", "aws:SourceOwner", "aws:SourceVpc",
	"aws:SourceVpcArn", "aws:SourceVpce", "aws:TagKeys", "aws:TokenIssueTime",
	"aws:UserAgent", "aws:userid", "aws:username", "aws:ViaAWSService",
	"aws:VpcSourceIp", "aws:VpceAccount", "aws:VpceOrgID", "aws:VpceOrgPaths",
)

// s3Keys are the S3 condition keys ("s3:..."), lower-cased.
var s3Keys = keySet(
	"s3:AccessGrantScope", "s3:AccessGrantsInstanceArn", "s3:AccessGrantsLocationScope",
	"s3:AccessPointNetworkOrigin", "s3:annotation-prefix", "s3:authType",
	"s3:DataAccessPointAccount", "s3:DataAccessPointArn", "s3:delimiter",
	"s3:deliverySourceArn", "s3:destinationRegion", "s3:ExistingJobOperation",
	"s3:ExistingJobPriority", "s3:if-match", "s3:if-none-match",
	"s3:InventoryAccessibleOptionalFields", "s3:isReplicationPauseRequest",
	"s3:JobSuspendedCause", "s3:LocationConstraint", "s3:logType",
	"s3:max-annotation-results", "s3:max-keys", "s3:object-lock-legal-hold",
	"s3:object-lock-mode", "s3:object-lock-remaining-retention-days",
	"s3:object-lock-retain-until-date", "s3:ObjectCreationOperation", "s3:prefix",
	"s3:RequestJobOperation", "s3:RequestJobPriority", "s3:RequestObjectTagKeys",
	"s3:ResourceAccount", "s3:resourceArnBeingAuthorized", "s3:signatureAge",
	"s3:signatureversion", "s3:TlsVersion", "s3:VersionId", "s3:x-amz-acl",
	"s3:x-amz-bucket-namespace", "s3:x-amz-content-sha256", "s3:x-amz-copy-source",
	"s3:x-amz-grant-full-control", "s3:x-amz-grant-read", "s3:x-amz-grant-read-acp",
	"s3:x-amz-grant-write", "s3:x-amz-grant-write-acp", "s3:x-amz-metadata-directive",
	"s3:x-amz-object-annotation-directive", "s3:x-amz-object-if-match",
	"s3:x-amz-object-ownership", "s3:x-amz-server-side-encryption",
	"s3:x-amz-server-side-encryption-aws-kms-key-id",
	"s3:x-amz-server-side-encryption-customer-algorithm", "s3:x-amz-storage-class",
	"s3:x-amz-website-redirect-location",
)

// taggedKeyPrefixes are key families whose name continues with a tag key,
// e.g. "aws:PrincipalTag/team" or "s3:ExistingObjectTag/class".
var taggedKeyPrefixes = []string{
	"aws:principaltag/", "aws:requesttag/", "aws:resourcetag/",
	"s3:accesspointtag/", "s3:buckettag/", "s3:existingobjecttag/", "s3:requestobjecttag/",
}

func keySet(keys ...string) map[string]bool {
	m := make(map[string]bool, len(keys))
	for _, k := range keys {
		m[strings.ToLower(k)] = true
	}
	return m
}

// validKeyForm reports whether key has the form "service:name".
func validKeyForm(key string) bool {
	service, name, ok := strings.Cut(key, ":")
	if !ok || service == "" || name == "" {
		return false
	}
	for i := 0; i < len(service); i++ {
		c := service[i]
		if !(isDigit(c) || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '-') {
			return false
		}
	}
	return !strings.ContainsAny(name, " \t\r\n")
}

// knownBucketKey reports whether a lower-cased key may appear in a bucket
// policy: a global key or an S3 key.
func knownBucketKey(lkey string) bool {
	if globalKeys[lkey] || s3Keys[lkey] {
		return true
	}
	for _, p := range taggedKeyPrefixes {
		if rest, ok := strings.CutPrefix(lkey, p); ok && rest != "" {
			return true
		}
	}
	return false
}

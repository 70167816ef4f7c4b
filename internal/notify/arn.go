package notify

import (
	"errors"
	"strings"
)

// Account is the account id in the ARNs firn gives its targets.
const Account = "000000000000"

// ARN services of notification destinations.
const (
	ServiceSQS    = "sqs"
	ServiceSNS    = "sns"
	ServiceLambda = "lambda"
)

// errBadARN is what ParseARN returns for anything but a destination ARN.
var errBadARN = errors.New("notify: not a queue, topic or function ARN")

// ParseARN splits the ARN of a notification destination,
// arn:<partition>:<service>:<region>:<account>:<resource>, where service
// is sqs (a queue), sns (a topic) or lambda (a function). The partition
// must start with "aws"; region, account and resource must not be empty.
// The name is the resource, which for sqs and sns may not contain ':';
// for lambda it is written "function:<name>" (a qualifier such as an
// alias, "function:<name>:<qualifier>", stays part of the returned name)
// or, as firn also accepts, just "<name>". No part may contain white
// space or control characters.
func ParseARN(arn string) (service, region, account, name string, err error) {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || !strings.HasPrefix(parts[1], "aws") ||
		parts[3] == "" || parts[4] == "" || strings.ContainsFunc(arn, isSpaceOrControl) {
		return "", "", "", "", errBadARN
	}
	service, region, account, name = parts[2], parts[3], parts[4], parts[5]
	switch service {
	case ServiceSQS, ServiceSNS:
		if strings.Contains(name, ":") {
			return "", "", "", "", errBadARN
		}
	case ServiceLambda:
		if fn, ok := strings.CutPrefix(name, "function:"); ok {
			name = fn
		} else if strings.Contains(name, ":") {
			return "", "", "", "", errBadARN
		}
		if strings.HasPrefix(name, ":") || strings.HasSuffix(name, ":") {
			return "", "", "", "", errBadARN
		}
	default:
		return "", "", "", "", errBadARN
	}
	if name == "" {
		return "", "", "", "", errBadARN
	}
	return service, region, account, name, nil
}

func isSpaceOrControl(r rune) bool { return r <= ' ' || r == 0x7f }

// ServiceOf returns the ARN service the destinations of rule kind use:
// sqs for KindQueue, sns for KindTopic, lambda for KindCloudFunction, ""
// for anything else.
func ServiceOf(kind string) string {
	switch kind {
	case KindQueue:
		return ServiceSQS
	case KindTopic:
		return ServiceSNS
	case KindCloudFunction:
		return ServiceLambda
	}
	return ""
}

// TargetARN returns the ARN under which firn offers target name as a
// destination of rule kind in region:
// "arn:aws:<service>:<region>:000000000000:<name>", the name written
// "function:<name>" for lambda. It returns "" for an unknown kind.
func TargetARN(kind, region, name string) string {
	svc := ServiceOf(kind)
	if svc == "" {
		return ""
	}
	if svc == ServiceLambda {
		name = "function:" + name
	}
	return "arn:aws:" + svc + ":" + region + ":" + Account + ":" + name
}

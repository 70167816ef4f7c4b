package notify

import "testing"

func TestParseARN(t *testing.T) {
	tests := []struct {
		arn                            string
		service, region, account, name string // service "" = refused
	}{
		{"arn:aws:sqs:us-east-1:000000000000:q", "sqs", "us-east-1", "000000000000", "q"},
		{"arn:aws:sqs:eu-west-1:123456789012:orders.fifo", "sqs", "eu-west-1", "123456789012", "orders.fifo"},
		{"arn:aws:sns:us-west-2:444455556666:topic", "sns", "us-west-2", "444455556666", "topic"},
		{"arn:aws-cn:sns:cn-north-1:444455556666:t", "sns", "cn-north-1", "444455556666", "t"},
		{"arn:aws-us-gov:sqs:us-gov-west-1:1:q", "sqs", "us-gov-west-1", "1", "q"},
		{"arn:aws:lambda:us-east-1:000000000000:function:thumbs", "lambda", "us-east-1", "000000000000", "thumbs"},
		{"arn:aws:lambda:us-east-1:000000000000:thumbs", "lambda", "us-east-1", "000000000000", "thumbs"},
		{"arn:aws:lambda:us-east-1:000000000000:function:thumbs:live", "lambda", "us-east-1", "000000000000", "thumbs:live"},

		{"", "", "", "", ""},
		{"q", "", "", "", ""},
		{"arn:aws:sqs:us-east-1:000000000000", "", "", "", ""},
		{"arn:aws:sqs:us-east-1:000000000000:", "", "", "", ""},
		{"arn:aws:sqs::000000000000:q", "", "", "", ""},
		{"arn:aws:sqs:us-east-1::q", "", "", "", ""},
		{"arn::sqs:us-east-1:1:q", "", "", "", ""},
		{"arn:gcp:sqs:us-east-1:1:q", "", "", "", ""},
		{"urn:aws:sqs:us-east-1:1:q", "", "", "", ""},
		{"ARN:aws:sqs:us-east-1:1:q", "", "", "", ""},
		{"arn:aws:SQS:us-east-1:1:q", "", "", "", ""},
		{"arn:aws:s3:::bucket", "", "", "", ""},
		{"arn:aws:events:us-east-1:1:event-bus/default", "", "", "", ""},
		{"arn:aws:sqs:us-east-1:1:q:extra", "", "", "", ""},
		{"arn:aws:sns:us-east-1:1:topic:5f1c-subscription", "", "", "", ""},
		{"arn:aws:sqs:us-east-1:1:my queue", "", "", "", ""},
		{"arn:aws:sqs:us-east-1:1:q\n", "", "", "", ""},
		{" arn:aws:sqs:us-east-1:1:q", "", "", "", ""},
		{"arn:aws:lambda:us-east-1:1:function:", "", "", "", ""},
		{"arn:aws:lambda:us-east-1:1:function:f:", "", "", "", ""},
		{"arn:aws:lambda:us-east-1:1:function::f", "", "", "", ""},
		{"arn:aws:lambda:us-east-1:1:layer:f", "", "", "", ""},
	}
	for _, tt := range tests {
		service, region, account, name, err := ParseARN(tt.arn)
		if tt.service == "" {
			if err == nil {
				t.Errorf("ParseARN(%q) = %q, %q, %q, %q; want an error", tt.arn, service, region, account, name)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseARN(%q): %v", tt.arn, err)
			continue
		}
		if service != tt.service || region != tt.region || account != tt.account || name != tt.name {
			t.Errorf("ParseARN(%q) = %q, %q, %q, %q; want %q, %q, %q, %q",
				tt.arn, service, region, account, name, tt.service, tt.region, tt.account, tt.name)
		}
	}
}

func TestServiceOf(t *testing.T) {
	for kind, want := range map[string]string{
		KindQueue: "sqs", KindTopic: "sns", KindCloudFunction: "lambda", "": "", "queue": "", "EventBridge": "",
	} {
		if got := ServiceOf(kind); got != want {
			t.Errorf("ServiceOf(%q) = %q, want %q", kind, got, want)
		}
	}
}

func TestTargetARN(t *testing.T) {
	tests := []struct {
		kind, region, name, want string
	}{
		{KindQueue, "us-east-1", "orders", "arn:aws:sqs:us-east-1:000000000000:orders"},
		{KindTopic, "eu-central-1", "fan.out", "arn:aws:sns:eu-central-1:000000000000:fan.out"},
		{KindCloudFunction, "us-west-2", "hook_1", "arn:aws:lambda:us-west-2:000000000000:function:hook_1"},
		{"Bogus", "us-east-1", "x", ""},
	}
	for _, tt := range tests {
		got := TargetARN(tt.kind, tt.region, tt.name)
		if got != tt.want {
			t.Errorf("TargetARN(%q, %q, %q) = %q, want %q", tt.kind, tt.region, tt.name, got, tt.want)
		}
		if got == "" {
			continue
		}
		service, region, account, name, err := ParseARN(got)
		if err != nil || service != ServiceOf(tt.kind) || region != tt.region || account != Account || name != tt.name {
			t.Errorf("ParseARN(%q) = %q, %q, %q, %q, %v; want it to give back the target", got, service, region, account, name, err)
		}
	}
}

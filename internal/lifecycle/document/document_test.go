package document

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/firnhq/firn/internal/lifecycle"
)

const policyJSON = `{"Rules": [{
  "ID": "r1", "Filter": {"And": {"Prefix": "logs/", "Tags": [{"Key": "k", "Value": "v"}], "ObjectSizeGreaterThan": 1024}},
  "Status": "Enabled",
  "Transitions": [{"Days": 30, "StorageClass": "STANDARD_IA"}, {"Days": 90, "StorageClass": "GLACIER"}],
  "Expiration": {"Days": 400},
  "NoncurrentVersionTransitions": [{"NoncurrentDays": 30, "StorageClass": "GLACIER", "NewerNoncurrentVersions": 2}],
  "NoncurrentVersionExpiration": {"NoncurrentDays": 100}},
 {"ID": "r2", "Filter": {}, "Status": "Disabled", "Expiration": {"Date": "2030-01-01T00:00:00Z"},
  "AbortIncompleteMultipartUpload": null}]}`

const policyXML = `<LifecycleConfiguration><Rule><ID>r1</ID>
<Filter><And><Prefix>logs/</Prefix><Tag><Key>k</Key><Value>v</Value></Tag><ObjectSizeGreaterThan>1024</ObjectSizeGreaterThan></And></Filter>
<Status>Enabled</Status>
<Transition><Days>30</Days><StorageClass>STANDARD_IA</StorageClass></Transition>
<Transition><Days>90</Days><StorageClass>GLACIER</StorageClass></Transition>
<Expiration><Days>400</Days></Expiration>
<NoncurrentVersionTransition><NoncurrentDays>30</NoncurrentDays><NewerNoncurrentVersions>2</NewerNoncurrentVersions><StorageClass>GLACIER</StorageClass></NoncurrentVersionTransition>
<NoncurrentVersionExpiration><NoncurrentDays>100</NoncurrentDays></NoncurrentVersionExpiration></Rule>
<Rule><ID>r2</ID><Filter/><Status>Disabled</Status><Expiration><Date>2030-01-01T00:00:00Z</Date></Expiration></Rule>
</LifecycleConfiguration>`

func TestJSONMatchesXML(t *testing.T) {
	j, err := Parse([]byte(policyJSON))
	if err != nil {
		t.Fatal(err)
	}
	x, err := Parse([]byte("\n  " + policyXML))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(j.Config, x.Config) {
		t.Errorf("JSON and XML differ:\n%s\n%s", j.Config.Marshal(), x.Config.Marshal())
	}
	if j.MinimumSize != lifecycle.AllStorageClasses128K {
		t.Errorf("minimum size: got %q", j.MinimumSize)
	}
}

func TestJSONErrors(t *testing.T) {
	tests := []struct{ name, doc, want string }{
		{"unknown member", `{"Rules": [{"ID": "a", "Status": "Enabled", "Filter": {}, "Expiration": {"Days": 1}, "Colour": 1}]}`, "Colour"},
		{"not an integer", `{"Rules": [{"Status": "Enabled", "Filter": {}, "Expiration": {"Days": 1.5}}]}`, "not an integer"},
		{"validation", `{"Rules": [{"Status": "Enabled", "Filter": {}, "Transitions": [{"Days": 10, "StorageClass": "STANDARD_IA"}]}]}`, "greater than or equal to 30"},
		{"lowercase status", `{"Rules": [{"Status": "enabled", "Filter": {}, "Expiration": {"Days": 1}}]}`, "MalformedXML"},
		{"minimum size", `{"TransitionDefaultMinimumObjectSize": "tiny", "Rules": []}`, "Invalid TransitionDefaultMinimumObjectSize"},
		{"trailing data", `{"Rules": []} {}`, "after"},
	}
	for _, tt := range tests {
		_, err := Parse([]byte(tt.doc))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: got %v, want %q", tt.name, err, tt.want)
		}
	}
	var le *lifecycle.Error
	if _, err := Parse([]byte(`{"Rules": [{"Status": "Enabled", "Filter": {}}]}`)); !errors.As(err, &le) || le.Code != lifecycle.CodeInvalidRequest {
		t.Errorf("a rule without action: got %v, want an InvalidRequest *lifecycle.Error", err)
	}
}

func TestGetOutput(t *testing.T) {
	d, err := ParseJSON([]byte(`{"TransitionDefaultMinimumObjectSize": "varies_by_storage_class",
	  "Rules": [{"ID": "x", "Filter": {"Prefix": "a/"}, "Status": "Enabled", "Transitions": [{"Days": 0, "StorageClass": "GLACIER"}]}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if d.MinimumSize != lifecycle.VariesByStorageClass || d.Config.Rules[0].KeyPrefix() != "a/" {
		t.Errorf("got %+v", d)
	}
}

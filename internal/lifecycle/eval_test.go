package lifecycle

import (
	"reflect"
	"testing"
	"time"
)

// nextMidnight is object.NextMidnight's formula, which DueAfter must
// agree with.
func nextMidnight(t time.Time, day time.Duration) time.Time {
	n, d := t.UnixNano(), int64(day)
	return time.Unix(0, (n/d+1)*d).UTC()
}

func TestDueAfter(t *testing.T) {
	tests := []struct {
		name string
		base time.Time
		days int
		day  time.Duration
		want time.Time
	}{
		// S3's documented example: created 2014-01-15 10:30 UTC, 3 days.
		{"S3 example", time.Date(2014, 1, 15, 10, 30, 0, 0, time.UTC), 3, 0, midnight(2014, 1, 19)},
		{"just after midnight", time.Date(2014, 1, 2, 0, 5, 0, 0, time.UTC), 1, 24 * time.Hour, midnight(2014, 1, 4)},
		{"exactly on a boundary moves to the next", midnight(2014, 1, 15), 3, 24 * time.Hour, midnight(2014, 1, 19)},
		{"one nanosecond before a boundary", midnight(2014, 1, 15).Add(-1), 3, 24 * time.Hour, midnight(2014, 1, 18)},
		{"zero days", time.Date(2014, 1, 15, 23, 59, 59, 0, time.UTC), 0, 24 * time.Hour, midnight(2014, 1, 16)},
		{"other zone, same instant", time.Date(2014, 1, 15, 23, 30, 0, 0, time.FixedZone("UTC-5", -5*3600)), 1, 24 * time.Hour, midnight(2014, 1, 18)},
		{"hour-long days", time.Date(2026, 3, 1, 10, 30, 0, 0, time.UTC), 2, time.Hour, time.Date(2026, 3, 1, 13, 0, 0, 0, time.UTC)},
		{"hour-long days on a boundary", time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC), 2, time.Hour, time.Date(2026, 3, 1, 13, 0, 0, 0, time.UTC)},
		{"1.5 s days", time.Unix(100, 0), 2, 1500 * time.Millisecond, time.Unix(0, 103_500_000_000).UTC()},
		{"1.5 s days on a boundary", time.Unix(0, 3_000_000_000), 1, 1500 * time.Millisecond, time.Unix(6, 0).UTC()},
		{"a long retention", time.Date(2026, 1, 20, 13, 0, 0, 0, time.UTC), 2555, 24 * time.Hour, midnight(2026, 1, 21).AddDate(0, 0, 2555)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := DueAfter(tt.base, tt.days, tt.day)
			if !got.Equal(tt.want) || got.Location() != time.UTC {
				t.Errorf("DueAfter = %v, want %v", got, tt.want)
			}
			day := tt.day
			if day == 0 {
				day = 24 * time.Hour
			}
			if ref := nextMidnight(tt.base.Add(time.Duration(tt.days)*day), day); !got.Equal(ref) {
				t.Errorf("DueAfter = %v, object.NextMidnight's formula gives %v", got, ref)
			}
		})
	}
	// Day counts far beyond time.Duration's range don't wrap around.
	far := DueAfter(midnight(2026, 1, 1), 1<<31-1, 24*time.Hour)
	if !far.After(midnight(5000000, 1, 1)) {
		t.Errorf("DueAfter with 2^31-1 days = %v", far)
	}
}

// created is when test objects were created: 10:30 UTC on 1 March 2026.
var created = time.Date(2026, 3, 1, 10, 30, 0, 0, time.UTC)

// dueIn is when an action set for days after created is due.
func dueIn(days int) time.Time { return midnight(2026, 3, 2).AddDate(0, 0, days) }

const big = 1 << 20 // an object above the minimum size

func TestNext(t *testing.T) {
	tests := []struct {
		name string
		cfg  string
		obj  Object
		opt  Options
		want *Action // nil: nothing ever
	}{
		{
			name: "expiration by days",
			cfg:  doc(rule(`<ID>r</ID><Filter/><Expiration><Days>7</Days></Expiration>`)),
			obj:  Object{Key: "k", Size: 1, Created: created},
			want: &Action{KindExpire, "", dueIn(7), "r"},
		},
		{
			name: "expiration by date",
			cfg:  doc(rule(`<ID>r</ID><Filter/><Expiration><Date>2027-01-01T00:00:00Z</Date></Expiration>`)),
			obj:  Object{Key: "k", Created: created},
			want: &Action{KindExpire, "", midnight(2027, 1, 1), "r"},
		},
		{
			name: "date already past is due at the date",
			cfg:  doc(rule(`<ID>r</ID><Filter/><Transition><Date>2020-01-01T00:00:00Z</Date><StorageClass>GLACIER</StorageClass></Transition>`)),
			obj:  Object{Key: "k", Size: big, Created: created},
			want: &Action{KindTransition, Glacier, midnight(2020, 1, 1), "r"},
		},
		{
			name: "disabled rule",
			cfg:  doc(rule(`<ID>r</ID><Status>Disabled</Status><Filter/><Expiration><Days>7</Days></Expiration>`)),
			obj:  Object{Key: "k", Created: created},
		},
		{
			name: "prefix does not match",
			cfg:  doc(rule(`<ID>r</ID><Filter><Prefix>logs/</Prefix></Filter><Expiration><Days>7</Days></Expiration>`)),
			obj:  Object{Key: "log/a", Created: created},
		},
		{
			name: "V1 prefix matches",
			cfg:  doc(rule(`<ID>r</ID><Prefix>logs/</Prefix><Expiration><Days>7</Days></Expiration>`)),
			obj:  Object{Key: "logs/a", Created: created},
			want: &Action{KindExpire, "", dueIn(7), "r"},
		},
		{
			name: "tag must match key and value",
			cfg:  doc(rule(`<ID>r</ID><Filter><Tag><Key>k</Key><Value>v</Value></Tag></Filter><Expiration><Days>7</Days></Expiration>`)),
			obj:  Object{Key: "a", Created: created, Tags: map[string]string{"k": "w"}},
		},
		{
			name: "extra tags are fine",
			cfg:  doc(rule(`<ID>r</ID><Filter><And><Prefix>a</Prefix><Tag><Key>k</Key><Value>v</Value></Tag><Tag><Key>e</Key><Value></Value></Tag></And></Filter><Expiration><Days>7</Days></Expiration>`)),
			obj:  Object{Key: "a", Created: created, Tags: map[string]string{"k": "v", "e": "", "x": "y"}},
			want: &Action{KindExpire, "", dueIn(7), "r"},
		},
		{
			name: "missing tag",
			cfg:  doc(rule(`<ID>r</ID><Filter><And><Prefix>a</Prefix><Tag><Key>k</Key><Value>v</Value></Tag><Tag><Key>e</Key><Value></Value></Tag></And></Filter><Expiration><Days>7</Days></Expiration>`)),
			obj:  Object{Key: "a", Created: created, Tags: map[string]string{"k": "v"}},
		},
		{
			name: "size bound is exclusive (greater than)",
			cfg:  doc(rule(`<ID>r</ID><Filter><ObjectSizeGreaterThan>1024</ObjectSizeGreaterThan></Filter><Expiration><Days>7</Days></Expiration>`)),
			obj:  Object{Key: "a", Size: 1024, Created: created},
		},
		{
			name: "size bound is exclusive (less than)",
			cfg:  doc(rule(`<ID>r</ID><Filter><ObjectSizeLessThan>1024</ObjectSizeLessThan></Filter><Expiration><Days>7</Days></Expiration>`)),
			obj:  Object{Key: "a", Size: 1024, Created: created},
		},
		{
			name: "inside the size bounds",
			cfg:  doc(rule(`<ID>r</ID><Filter><And><ObjectSizeGreaterThan>1023</ObjectSizeGreaterThan><ObjectSizeLessThan>1025</ObjectSizeLessThan></And></Filter><Expiration><Days>7</Days></Expiration>`)),
			obj:  Object{Key: "a", Size: 1024, Created: created},
			want: &Action{KindExpire, "", dueIn(7), "r"},
		},
		{
			name: "the earliest of two rules",
			cfg: doc(rule(`<ID>late</ID><Filter><Prefix>a</Prefix></Filter><Expiration><Days>365</Days></Expiration>`),
				rule(`<ID>early</ID><Filter><Prefix>a/</Prefix></Filter><Expiration><Days>10</Days></Expiration>`)),
			obj:  Object{Key: "a/b", Created: created},
			want: &Action{KindExpire, "", dueIn(10), "early"},
		},
		{
			name: "same action same day: the first rule",
			cfg: doc(rule(`<ID>one</ID><Filter><Prefix>a</Prefix></Filter><Expiration><Days>10</Days></Expiration>`),
				rule(`<ID>two</ID><Filter/><Expiration><Days>10</Days></Expiration>`)),
			obj:  Object{Key: "a/b", Created: created},
			want: &Action{KindExpire, "", dueIn(10), "one"},
		},

		// Conflicts.
		{
			name: "permanent deletion beats a transition due the same day",
			cfg: doc(rule(`<ID>t</ID><Filter/><Transition><Days>30</Days><StorageClass>GLACIER</StorageClass></Transition>`),
				rule(`<ID>e</ID><Filter><Prefix></Prefix></Filter><Expiration><Days>30</Days></Expiration>`)),
			obj:  Object{Key: "a", Size: big, Created: created},
			want: &Action{KindExpire, "", dueIn(30), "e"},
		},
		{
			name: "a transition beats the creation of a delete marker",
			cfg: doc(rule(`<ID>e</ID><Filter><Prefix></Prefix></Filter><Expiration><Days>30</Days></Expiration>`),
				rule(`<ID>t</ID><Filter/><Transition><Days>30</Days><StorageClass>GLACIER</StorageClass></Transition>`)),
			obj:  Object{Key: "a", Size: big, Created: created, Versioned: true},
			want: &Action{KindTransition, Glacier, dueIn(30), "t"},
		},
		{
			name: "GLACIER beats STANDARD_IA the same day",
			cfg: doc(rule(`<ID>ia</ID><Filter/><Transition><Days>30</Days><StorageClass>STANDARD_IA</StorageClass></Transition>`),
				rule(`<ID>gl</ID><Filter><Prefix></Prefix></Filter><Transition><Days>30</Days><StorageClass>GLACIER</StorageClass></Transition>`)),
			obj:  Object{Key: "a", Size: big, Created: created},
			want: &Action{KindTransition, Glacier, dueIn(30), "gl"},
		},
		{
			name: "ONEZONE_IA beats STANDARD_IA",
			cfg: doc(rule(`<ID>ia</ID><Filter/><Transition><Days>30</Days><StorageClass>STANDARD_IA</StorageClass></Transition>`),
				rule(`<ID>oz</ID><Filter><Prefix></Prefix></Filter><Transition><Days>30</Days><StorageClass>ONEZONE_IA</StorageClass></Transition>`)),
			obj:  Object{Key: "a", Size: big, Created: created},
			want: &Action{KindTransition, OnezoneIA, dueIn(30), "oz"},
		},
		{
			name: "INTELLIGENT_TIERING beats GLACIER_IR",
			cfg: doc(rule(`<ID>ir</ID><Filter/><Transition><Days>5</Days><StorageClass>GLACIER_IR</StorageClass></Transition>`),
				rule(`<ID>it</ID><Filter><Prefix></Prefix></Filter><Transition><Days>5</Days><StorageClass>INTELLIGENT_TIERING</StorageClass></Transition>`)),
			obj:  Object{Key: "a", Size: big, Created: created},
			want: &Action{KindTransition, IntelligentTiering, dueIn(5), "it"},
		},
		{
			name: "DEEP_ARCHIVE beats INTELLIGENT_TIERING",
			cfg: doc(rule(`<ID>da</ID><Filter/><Transition><Days>5</Days><StorageClass>DEEP_ARCHIVE</StorageClass></Transition>`),
				rule(`<ID>it</ID><Filter><Prefix></Prefix></Filter><Transition><Days>5</Days><StorageClass>INTELLIGENT_TIERING</StorageClass></Transition>`)),
			obj:  Object{Key: "a", Size: big, Created: created},
			want: &Action{KindTransition, DeepArchive, dueIn(5), "da"},
		},
		{
			name: "an earlier warm transition comes first",
			cfg: doc(rule(`<ID>ia</ID><Filter/><Transition><Days>30</Days><StorageClass>STANDARD_IA</StorageClass></Transition>`),
				rule(`<ID>gl</ID><Filter><Prefix></Prefix></Filter><Transition><Days>31</Days><StorageClass>GLACIER</StorageClass></Transition>`)),
			obj:  Object{Key: "a", Size: big, Created: created},
			want: &Action{KindTransition, StandardIA, dueIn(30), "ia"},
		},

		// The waterfall.
		{
			name: "no transition to the class the object is in",
			cfg:  doc(rule(`<ID>r</ID><Filter/><Transition><Days>1</Days><StorageClass>GLACIER</StorageClass></Transition>`)),
			obj:  Object{Key: "a", Size: big, StorageClass: Glacier, Created: created},
		},
		{
			name: "no transition to a warmer class",
			cfg:  doc(rule(`<ID>r</ID><Filter/><Transition><Days>30</Days><StorageClass>STANDARD_IA</StorageClass></Transition><Transition><Days>90</Days><StorageClass>DEEP_ARCHIVE</StorageClass></Transition>`)),
			obj:  Object{Key: "a", Size: big, StorageClass: Glacier, Created: created},
			want: &Action{KindTransition, DeepArchive, dueIn(90), "r"},
		},
		{
			name: "ONEZONE_IA cannot go to GLACIER_IR",
			cfg:  doc(rule(`<ID>r</ID><Filter/><Transition><Days>0</Days><StorageClass>GLACIER_IR</StorageClass></Transition>`)),
			obj:  Object{Key: "a", Size: big, StorageClass: OnezoneIA, Created: created},
		},
		{
			name: "DEEP_ARCHIVE goes nowhere but expires",
			cfg:  doc(rule(`<ID>r</ID><Filter/><Transition><Days>0</Days><StorageClass>GLACIER</StorageClass></Transition><Expiration><Days>400</Days></Expiration>`)),
			obj:  Object{Key: "a", Size: big, StorageClass: DeepArchive, Created: created},
			want: &Action{KindExpire, "", dueIn(400), "r"},
		},

		// The minimum object size.
		{
			name: "small objects don't transition by default",
			cfg:  doc(rule(`<ID>r</ID><Filter/><Transition><Days>1</Days><StorageClass>GLACIER</StorageClass></Transition>`)),
			obj:  Object{Key: "a", Size: SmallObject - 1, Created: created},
		},
		{
			name: "128 KiB is not small",
			cfg:  doc(rule(`<ID>r</ID><Filter/><Transition><Days>1</Days><StorageClass>GLACIER_IR</StorageClass></Transition>`)),
			obj:  Object{Key: "a", Size: SmallObject, Created: created},
			want: &Action{KindTransition, GlacierIR, dueIn(1), "r"},
		},
		{
			name: "small objects may go to GLACIER when it varies by class",
			cfg:  doc(rule(`<ID>r</ID><Filter/><Transition><Days>1</Days><StorageClass>GLACIER_IR</StorageClass></Transition><Transition><Days>2</Days><StorageClass>GLACIER</StorageClass></Transition>`)),
			obj:  Object{Key: "a", Size: 10, Created: created},
			opt:  Options{MinimumSize: VariesByStorageClass},
			want: &Action{KindTransition, Glacier, dueIn(2), "r"},
		},
		{
			name: "a rule's own ObjectSizeGreaterThan replaces the default",
			cfg:  doc(rule(`<ID>r</ID><Filter><ObjectSizeGreaterThan>0</ObjectSizeGreaterThan></Filter><Transition><Days>1</Days><StorageClass>GLACIER_IR</StorageClass></Transition>`)),
			obj:  Object{Key: "a", Size: 10, Created: created},
			want: &Action{KindTransition, GlacierIR, dueIn(1), "r"},
		},
		{
			name: "a rule's own ObjectSizeGreaterThan lets small objects go",
			cfg:  doc(rule(`<ID>r</ID><Filter><And><Prefix>a</Prefix><ObjectSizeGreaterThan>5</ObjectSizeGreaterThan></And></Filter><Transition><Days>30</Days><StorageClass>STANDARD_IA</StorageClass></Transition>`)),
			obj:  Object{Key: "a", Size: 10, Created: created},
			want: &Action{KindTransition, StandardIA, dueIn(30), "r"},
		},
		{
			name: "ObjectSizeLessThan alone keeps the default",
			cfg:  doc(rule(`<ID>r</ID><Filter><ObjectSizeLessThan>100</ObjectSizeLessThan></Filter><Transition><Days>3</Days><StorageClass>GLACIER</StorageClass></Transition>`)),
			obj:  Object{Key: "a", Size: 10, Created: created},
		},
		{
			name: "small objects still expire",
			cfg:  doc(rule(`<ID>r</ID><Filter/><Transition><Days>1</Days><StorageClass>GLACIER</StorageClass></Transition><Expiration><Days>5</Days></Expiration>`)),
			obj:  Object{Key: "a", Size: 0, Created: created},
			want: &Action{KindExpire, "", dueIn(5), "r"},
		},

		// Versions.
		{
			name: "current rules ignore noncurrent versions",
			cfg:  doc(rule(`<ID>r</ID><Filter/><Transition><Days>1</Days><StorageClass>GLACIER</StorageClass></Transition><Expiration><Days>5</Days></Expiration>`)),
			obj:  Object{Key: "a", Size: big, Created: created, Noncurrent: true, NoncurrentSince: created.Add(time.Hour)},
		},
		{
			name: "noncurrent rules ignore current versions",
			cfg:  doc(rule(`<ID>r</ID><Filter/><NoncurrentVersionExpiration><NoncurrentDays>1</NoncurrentDays></NoncurrentVersionExpiration>`)),
			obj:  Object{Key: "a", Size: big, Created: created, Versioned: true},
		},
		{
			name: "noncurrent days count from the successor",
			cfg:  doc(rule(`<ID>r</ID><Filter/><NoncurrentVersionExpiration><NoncurrentDays>3</NoncurrentDays></NoncurrentVersionExpiration>`)),
			obj:  Object{Key: "a", Created: created, Noncurrent: true, NoncurrentSince: time.Date(2026, 3, 10, 23, 0, 0, 0, time.UTC)},
			want: &Action{KindNoncurrentExpire, "", midnight(2026, 3, 14), "r"},
		},
		{
			name: "noncurrent with no successor time counts from creation",
			cfg:  doc(rule(`<ID>r</ID><Filter/><NoncurrentVersionExpiration><NoncurrentDays>3</NoncurrentDays></NoncurrentVersionExpiration>`)),
			obj:  Object{Key: "a", Created: created, Noncurrent: true},
			want: &Action{KindNoncurrentExpire, "", dueIn(3), "r"},
		},
		{
			name: "noncurrent expiration beats a noncurrent transition",
			cfg: doc(rule(`<ID>t</ID><Filter/><NoncurrentVersionTransition><NoncurrentDays>10</NoncurrentDays><StorageClass>GLACIER</StorageClass></NoncurrentVersionTransition>`),
				rule(`<ID>e</ID><Filter><Prefix></Prefix></Filter><NoncurrentVersionExpiration><NoncurrentDays>10</NoncurrentDays></NoncurrentVersionExpiration>`)),
			obj:  Object{Key: "a", Size: big, Created: created, Noncurrent: true},
			want: &Action{KindNoncurrentExpire, "", dueIn(10), "e"},
		},
		{
			name: "NewerNoncurrentVersions keeps the newest",
			cfg:  doc(rule(`<ID>r</ID><Filter/><NoncurrentVersionExpiration><NoncurrentDays>1</NoncurrentDays><NewerNoncurrentVersions>2</NewerNoncurrentVersions></NoncurrentVersionExpiration>`)),
			obj:  Object{Key: "a", Created: created, Noncurrent: true, NewerNoncurrent: 1},
		},
		{
			name: "NewerNoncurrentVersions exceeded",
			cfg:  doc(rule(`<ID>r</ID><Filter/><NoncurrentVersionExpiration><NoncurrentDays>1</NoncurrentDays><NewerNoncurrentVersions>2</NewerNoncurrentVersions></NoncurrentVersionExpiration>`)),
			obj:  Object{Key: "a", Created: created, Noncurrent: true, NewerNoncurrent: 2},
			want: &Action{KindNoncurrentExpire, "", dueIn(1), "r"},
		},
		{
			name: "NewerNoncurrentVersions on a transition",
			cfg:  doc(rule(`<ID>r</ID><Filter/><NoncurrentVersionTransition><NoncurrentDays>0</NoncurrentDays><NewerNoncurrentVersions>1</NewerNoncurrentVersions><StorageClass>GLACIER</StorageClass></NoncurrentVersionTransition>`)),
			obj:  Object{Key: "a", Size: big, Created: created, Noncurrent: true, NewerNoncurrent: 0},
		},
		{
			name: "noncurrent transitions skip small objects",
			cfg:  doc(rule(`<ID>r</ID><Filter/><NoncurrentVersionTransition><NoncurrentDays>0</NoncurrentDays><StorageClass>DEEP_ARCHIVE</StorageClass></NoncurrentVersionTransition>`)),
			obj:  Object{Key: "a", Size: 100, Created: created, Noncurrent: true},
		},
		{
			name: "noncurrent delete markers expire but don't transition",
			cfg:  doc(rule(`<ID>r</ID><Filter/><NoncurrentVersionTransition><NoncurrentDays>0</NoncurrentDays><StorageClass>GLACIER</StorageClass></NoncurrentVersionTransition><NoncurrentVersionExpiration><NoncurrentDays>4</NoncurrentDays></NoncurrentVersionExpiration>`)),
			obj:  Object{Key: "a", Created: created, Noncurrent: true, IsDeleteMarker: true},
			want: &Action{KindNoncurrentExpire, "", dueIn(4), "r"},
		},
		{
			name: "expired object delete marker",
			cfg:  doc(rule(`<ID>r</ID><Filter/><Expiration><ExpiredObjectDeleteMarker>true</ExpiredObjectDeleteMarker></Expiration>`)),
			obj:  Object{Key: "a", Created: created, Versioned: true, IsDeleteMarker: true, OnlyVersion: true},
			want: &Action{KindExpireDeleteMarker, "", dueIn(0), "r"},
		},
		{
			name: "ExpiredObjectDeleteMarker false",
			cfg:  doc(rule(`<ID>r</ID><Filter/><Expiration><ExpiredObjectDeleteMarker>false</ExpiredObjectDeleteMarker></Expiration>`)),
			obj:  Object{Key: "a", Created: created, Versioned: true, IsDeleteMarker: true, OnlyVersion: true},
		},
		{
			name: "delete marker that still hides versions",
			cfg:  doc(rule(`<ID>r</ID><Filter/><Expiration><ExpiredObjectDeleteMarker>true</ExpiredObjectDeleteMarker></Expiration>`)),
			obj:  Object{Key: "a", Created: created, Versioned: true, IsDeleteMarker: true},
		},
		{
			name: "Expiration Days removes old expired delete markers",
			cfg:  doc(rule(`<ID>r</ID><Filter/><Expiration><Days>10</Days></Expiration>`)),
			obj:  Object{Key: "a", Created: created, Versioned: true, IsDeleteMarker: true, OnlyVersion: true},
			want: &Action{KindExpireDeleteMarker, "", dueIn(10), "r"},
		},
		{
			name: "Expiration Date leaves delete markers alone",
			cfg:  doc(rule(`<ID>r</ID><Filter/><Expiration><Date>2027-01-01T00:00:00Z</Date></Expiration>`)),
			obj:  Object{Key: "a", Created: created, Versioned: true, IsDeleteMarker: true, OnlyVersion: true},
		},
		{
			name: "delete markers don't transition",
			cfg:  doc(rule(`<ID>r</ID><Filter/><Transition><Days>0</Days><StorageClass>GLACIER</StorageClass></Transition>`)),
			obj:  Object{Key: "a", Size: big, Created: created, IsDeleteMarker: true, OnlyVersion: true},
		},
		{
			name: "delete markers carry no tags",
			cfg:  doc(rule(`<ID>r</ID><Filter><Tag><Key>k</Key><Value>v</Value></Tag></Filter><NoncurrentVersionExpiration><NoncurrentDays>1</NoncurrentDays></NoncurrentVersionExpiration>`)),
			obj:  Object{Key: "a", Created: created, Noncurrent: true, IsDeleteMarker: true},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := mustParse(t, tt.cfg)
			got, ok := c.Next(tt.obj, tt.opt)
			switch {
			case tt.want == nil && ok:
				t.Errorf("Next = %v, want nothing", got)
			case tt.want != nil && (!ok || got != *tt.want):
				t.Errorf("Next = %v, %v; want %v", got, ok, *tt.want)
			}
		})
	}
}

func TestEvaluate(t *testing.T) {
	transitions := doc(rule(`<ID>r</ID><Filter/>` +
		`<Transition><Days>30</Days><StorageClass>STANDARD_IA</StorageClass></Transition>` +
		`<Transition><Days>90</Days><StorageClass>GLACIER</StorageClass></Transition>` +
		`<Transition><Days>365</Days><StorageClass>DEEP_ARCHIVE</StorageClass></Transition>` +
		`<Expiration><Days>400</Days></Expiration>`))
	tests := []struct {
		name string
		cfg  string
		obj  Object
		now  time.Time
		want *Action
	}{
		{"nothing due yet", transitions, Object{Size: big, Created: created}, dueIn(30).Add(-1), nil},
		{"due exactly at the boundary", transitions, Object{Size: big, Created: created}, dueIn(30),
			&Action{KindTransition, StandardIA, dueIn(30), "r"}},
		{"overdue: the coldest transition due wins", transitions, Object{Size: big, Created: created}, dueIn(100),
			&Action{KindTransition, Glacier, dueIn(90), "r"}},
		{"overdue from STANDARD_IA", transitions, Object{Size: big, StorageClass: StandardIA, Created: created}, dueIn(366),
			&Action{KindTransition, DeepArchive, dueIn(365), "r"}},
		{"overdue: expiration beats every transition", transitions, Object{Size: big, Created: created}, dueIn(1000),
			&Action{KindExpire, "", dueIn(400), "r"}},
		{"overdue and versioned: transition first", transitions, Object{Size: big, Created: created, Versioned: true}, dueIn(1000),
			&Action{KindTransition, DeepArchive, dueIn(365), "r"}},
		{"versioned, nothing left to transition: expire", transitions, Object{Size: big, StorageClass: DeepArchive, Created: created, Versioned: true}, dueIn(1000),
			&Action{KindExpire, "", dueIn(400), "r"}},
		{"the expiration due first of two", doc(rule(`<ID>a</ID><Filter/><Expiration><Days>20</Days></Expiration>`), rule(`<ID>b</ID><Filter><Prefix></Prefix></Filter><Expiration><Days>10</Days></Expiration>`)),
			Object{Created: created}, dueIn(50), &Action{KindExpire, "", dueIn(10), "b"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := mustParse(t, tt.cfg).Evaluate(tt.obj, tt.now, Options{})
			switch {
			case tt.want == nil && ok:
				t.Errorf("Evaluate = %v, want nothing", got)
			case tt.want != nil && (!ok || got != *tt.want):
				t.Errorf("Evaluate = %v, %v; want %v", got, ok, *tt.want)
			}
		})
	}
}

func TestSchedule(t *testing.T) {
	tests := []struct {
		name string
		cfg  string
		obj  Object
		opt  Options
		want []Action
	}{
		{
			name: "unversioned: transitions then deletion",
			cfg: doc(rule(`<ID>r</ID><Filter/><Transition><Days>30</Days><StorageClass>STANDARD_IA</StorageClass></Transition>` +
				`<Transition><Days>60</Days><StorageClass>GLACIER</StorageClass></Transition><Expiration><Days>100</Days></Expiration>`)),
			obj: Object{Key: "k", Size: big, Created: created},
			want: []Action{
				{KindTransition, StandardIA, dueIn(30), "r"},
				{KindTransition, Glacier, dueIn(60), "r"},
				{KindExpire, "", dueIn(100), "r"},
			},
		},
		{
			name: "versioned: expiry makes it noncurrent, then it goes",
			cfg: doc(rule(`<ID>r</ID><Filter/><Expiration><Days>10</Days></Expiration>` +
				`<NoncurrentVersionTransition><NoncurrentDays>5</NoncurrentDays><StorageClass>GLACIER</StorageClass></NoncurrentVersionTransition>` +
				`<NoncurrentVersionExpiration><NoncurrentDays>20</NoncurrentDays></NoncurrentVersionExpiration>`)),
			obj: Object{Key: "k", Size: big, Created: created, Versioned: true},
			want: []Action{
				{KindExpire, "", dueIn(10), "r"},
				// The delete marker is made at the boundary, which counts
				// as the start of a day: the version is due the day after.
				{KindNoncurrentTransition, Glacier, dueIn(16), "r"},
				{KindNoncurrentExpire, "", dueIn(31), "r"},
			},
		},
		{
			name: "a transition due with a delete marker's creation comes first",
			cfg: doc(rule(`<ID>r</ID><Filter/><Transition><Days>10</Days><StorageClass>GLACIER</StorageClass></Transition>`),
				rule(`<ID>e</ID><Filter><Prefix></Prefix></Filter><Expiration><Days>10</Days></Expiration>`)),
			obj: Object{Key: "k", Size: big, Created: created, Versioned: true},
			want: []Action{
				{KindTransition, Glacier, dueIn(10), "r"},
				{KindExpire, "", dueIn(10), "e"},
			},
		},
		{
			name: "nothing",
			cfg:  doc(rule(`<ID>r</ID><Filter><Prefix>x</Prefix></Filter><Expiration><Days>10</Days></Expiration>`)),
			obj:  Object{Key: "k", Created: created},
		},
		{
			name: "two-hour days",
			cfg:  doc(rule(`<ID>r</ID><Filter/><Transition><Days>0</Days><StorageClass>GLACIER_IR</StorageClass></Transition><Expiration><Days>3</Days></Expiration>`)),
			obj:  Object{Key: "k", Size: big, Created: created}, // 10:30
			opt:  Options{DayLength: 2 * time.Hour},
			want: []Action{
				{KindTransition, GlacierIR, time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC), "r"},
				{KindExpire, "", time.Date(2026, 3, 1, 18, 0, 0, 0, time.UTC), "r"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := mustParse(t, tt.cfg).Schedule(tt.obj, tt.opt)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Schedule:\ngot  %v\nwant %v", got, tt.want)
			}
		})
	}
}

func TestExpirationHeader(t *testing.T) {
	cfg := doc(
		rule(`<ID>picture-deletion-rule</ID><Filter><Prefix>pictures/</Prefix></Filter><Expiration><Days>30</Days></Expiration>`),
		rule(`<ID>Delete after 14 days</ID><Filter><Tag><Key>tmp</Key><Value>yes</Value></Tag></Filter><Expiration><Days>14</Days></Expiration>`),
		rule(`<ID>dated</ID><Filter><Prefix>old/</Prefix></Filter><Expiration><Date>2012-12-23T00:00:00Z</Date></Expiration>`),
		rule(`<ID>markers</ID><Filter><Prefix>m/</Prefix></Filter><Expiration><ExpiredObjectDeleteMarker>true</ExpiredObjectDeleteMarker></Expiration>`),
		rule(`<ID>off</ID><Status>Disabled</Status><Filter><Prefix>off/</Prefix></Filter><Expiration><Days>1</Days></Expiration>`),
	)
	c := mustParse(t, cfg)
	created := time.Date(2012, 11, 22, 18, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		obj  Object
		want string
	}{
		{"days", Object{Key: "pictures/a.jpg", Created: created}, `expiry-date="Sun, 23 Dec 2012 00:00:00 GMT", rule-id="picture-deletion-rule"`},
		{"the earliest rule, ID written raw", Object{Key: "pictures/a.jpg", Created: created, Tags: map[string]string{"tmp": "yes"}},
			`expiry-date="Fri, 07 Dec 2012 00:00:00 GMT", rule-id="Delete after 14 days"`},
		{"date", Object{Key: "old/x", Created: created}, `expiry-date="Sun, 23 Dec 2012 00:00:00 GMT", rule-id="dated"`},
		{"no rule", Object{Key: "other", Created: created}, ""},
		{"ExpiredObjectDeleteMarker only", Object{Key: "m/x", Created: created}, ""},
		{"disabled rule", Object{Key: "off/x", Created: created}, ""},
		{"noncurrent version", Object{Key: "pictures/a.jpg", Created: created, Noncurrent: true}, ""},
		{"delete marker", Object{Key: "pictures/a.jpg", Created: created, IsDeleteMarker: true}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := c.ExpirationHeader(tt.obj, Options{}); got != tt.want {
				t.Errorf("ExpirationHeader:\ngot  %s\nwant %s", got, tt.want)
			}
		})
	}
	var none *Configuration
	if got := none.ExpirationHeader(Object{}, Options{}); got != "" {
		t.Errorf("nil configuration: %q", got)
	}
}

func TestAbortDue(t *testing.T) {
	c := mustParse(t, doc(
		rule(`<ID>all</ID><Filter/><AbortIncompleteMultipartUpload><DaysAfterInitiation>7</DaysAfterInitiation></AbortIncompleteMultipartUpload>`),
		rule(`<ID>tmp</ID><Filter><Prefix>tmp/</Prefix></Filter><AbortIncompleteMultipartUpload><DaysAfterInitiation>1</DaysAfterInitiation></AbortIncompleteMultipartUpload>`),
		rule(`<ID>off</ID><Status>Disabled</Status><Filter><Prefix>tmp/x</Prefix></Filter><AbortIncompleteMultipartUpload><DaysAfterInitiation>1</DaysAfterInitiation></AbortIncompleteMultipartUpload>`),
	))
	initiated := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		key    string
		opt    Options
		due    time.Time
		ruleID string
	}{
		{"a/b", Options{}, midnight(2026, 5, 9), "all"},
		{"tmp/x", Options{}, midnight(2026, 5, 3), "tmp"},
		{"tmp/x", Options{DayLength: time.Hour}, time.Date(2026, 5, 1, 14, 0, 0, 0, time.UTC), "tmp"},
	}
	for _, tt := range tests {
		due, id, ok := c.AbortDue(tt.key, initiated, tt.opt)
		if !ok || !due.Equal(tt.due) || id != tt.ruleID {
			t.Errorf("AbortDue(%q) = %v, %q, %v; want %v, %q", tt.key, due, id, ok, tt.due, tt.ruleID)
		}
	}
	noAbort := mustParse(t, doc(rule(`<ID>e</ID><Filter/><Expiration><Days>1</Days></Expiration>`)))
	if _, _, ok := noAbort.AbortDue("k", initiated, Options{}); ok {
		t.Error("AbortDue without an abort rule: ok")
	}
}

func TestKindString(t *testing.T) {
	for k, want := range map[Kind]string{
		KindTransition: "Transition", KindExpire: "Expire", KindExpireDeleteMarker: "ExpireDeleteMarker",
		KindNoncurrentTransition: "NoncurrentTransition", KindNoncurrentExpire: "NoncurrentExpire", 0: "Kind(?)", 99: "Kind(?)",
	} {
		if got := k.String(); got != want {
			t.Errorf("Kind(%d).String() = %q, want %q", int(k), got, want)
		}
	}
}

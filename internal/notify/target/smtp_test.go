package target

import (
	"bytes"
	"context"
	"encoding/base64"
	"io"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/textproto"
	"strings"
	"sync"
	"testing"
	"time"
)

// sinkMail is one message an smtpSink accepted.
type sinkMail struct {
	from string
	to   []string
	data []byte
}

// smtpSink is a minimal SMTP server on 127.0.0.1 that records what it
// is sent. It offers AUTH PLAIN, never STARTTLS, and answers DATA with
// 554 once it has accepted acceptN messages (when acceptN >= 0).
type smtpSink struct {
	ln      net.Listener
	acceptN int

	mu    sync.Mutex
	mails []sinkMail
	auths []string
	wg    sync.WaitGroup
}

func newSMTPSink(t *testing.T, acceptN int) *smtpSink {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &smtpSink{ln: ln, acceptN: acceptN}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				s.session(c)
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		s.wg.Wait()
	})
	return s
}

func (s *smtpSink) Addr() string { return s.ln.Addr().String() }

func (s *smtpSink) Mails() []sinkMail {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]sinkMail(nil), s.mails...)
}

func (s *smtpSink) session(c net.Conn) {
	tp := textproto.NewConn(c)
	defer tp.Close()
	var cur sinkMail
	reply := func(format string, args ...any) bool { return tp.PrintfLine(format, args...) == nil }
	if !reply("220 sink ESMTP") {
		return
	}
	for {
		line, err := tp.ReadLine()
		if err != nil {
			return
		}
		verb, arg, _ := strings.Cut(line, " ")
		switch strings.ToUpper(verb) {
		case "EHLO", "HELO":
			reply("250-sink")
			reply("250-8BITMIME")
			reply("250 AUTH PLAIN")
		case "AUTH":
			mech, resp, _ := strings.Cut(arg, " ")
			if strings.ToUpper(mech) != "PLAIN" {
				reply("504 unsupported")
				continue
			}
			dec, err := base64.StdEncoding.DecodeString(resp)
			if err != nil {
				reply("501 bad base64")
				continue
			}
			s.mu.Lock()
			s.auths = append(s.auths, string(dec))
			s.mu.Unlock()
			reply("235 2.7.0 ok")
		case "MAIL":
			cur = sinkMail{from: arg}
			reply("250 ok")
		case "RCPT":
			cur.to = append(cur.to, arg)
			reply("250 ok")
		case "DATA":
			reply("354 go on")
			data, err := tp.ReadDotBytes()
			if err != nil {
				return
			}
			s.mu.Lock()
			full := s.acceptN >= 0 && len(s.mails) >= s.acceptN
			if !full {
				cur.data = data
				s.mails = append(s.mails, cur)
			}
			s.mu.Unlock()
			if full {
				reply("554 5.3.4 no more")
			} else {
				reply("250 queued")
			}
		case "RSET", "NOOP":
			reply("250 ok")
		case "QUIT":
			reply("221 bye")
			return
		default:
			reply("502 unknown")
		}
	}
}

func TestSMTPSend(t *testing.T) {
	sink := newSMTPSink(t, -1)
	tg := openTarget(t, Spec{Name: "mail", Kind: KindSMTP, URL: "smtp://alice:SmtpPassw0rd@" + sink.Addr(),
		Options: map[string]string{"from": "Firn <firn@example.com>", "to": "ops@example.com, Bob <bob@example.com>", "subject_prefix": "[s3]"}})
	msgs := testMsgs("mail-"+suffix(t), 4)
	msgs[3].ID = "odd id/with spaces"
	mustSend(t, tg, msgs)

	mails := sink.Mails()
	if len(mails) != len(msgs) {
		t.Fatalf("%d mails, want %d", len(mails), len(msgs))
	}
	sink.mu.Lock()
	auths := append([]string(nil), sink.auths...)
	sink.mu.Unlock()
	if len(auths) != 1 || auths[0] != "\x00alice\x00SmtpPassw0rd" {
		t.Errorf("AUTH PLAIN credentials %q", auths)
	}
	var dec mime.WordDecoder
	for i, ml := range mails {
		m := msgs[i]
		if !strings.HasPrefix(ml.from, "FROM:<firn@example.com>") || len(ml.to) != 2 || ml.to[0] != "TO:<ops@example.com>" || ml.to[1] != "TO:<bob@example.com>" {
			t.Errorf("mail %d: envelope %q %q", i, ml.from, ml.to)
		}
		msg, err := mail.ReadMessage(bytes.NewReader(ml.data))
		if err != nil {
			t.Fatalf("mail %d: %v", i, err)
		}
		subject, err := dec.DecodeHeader(msg.Header.Get("Subject"))
		if err != nil {
			t.Fatal(err)
		}
		if want := "[s3] ObjectCreated:Put s3://bkt/" + m.Key; subject != want {
			t.Errorf("mail %d: subject %q, want %q", i, subject, want)
		}
		if id := msg.Header.Get("X-Firn-Event-Id"); id != m.ID {
			t.Errorf("mail %d: X-Firn-Event-Id %q, want %q", i, id, m.ID)
		}
		// An ID that is no dot-atom is hashed.
		want := "<" + m.ID + "@example.com>"
		if i == 3 {
			want = messageID(m.ID, "example.com")
		}
		if mid := msg.Header.Get("Message-Id"); mid != want || strings.Contains(mid, " ") {
			t.Errorf("mail %d: Message-ID %q, want %q", i, mid, want)
		}
		if _, err := msg.Header.Date(); err != nil {
			t.Errorf("mail %d: Date: %v", i, err)
		}
		if ct := msg.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
			t.Errorf("mail %d: Content-Type %q", i, ct)
		}
		body, err := io.ReadAll(quotedprintable.NewReader(msg.Body))
		if err != nil {
			t.Fatal(err)
		}
		body = bytes.ReplaceAll(body, []byte("\r\n"), []byte("\n"))
		if !bytes.Equal(body, prettyBody(m.Body)) || !bytes.Contains(body, []byte("\n  \"Records\"")) {
			t.Errorf("mail %d: body %q, want %q", i, body, prettyBody(m.Body))
		}
		if !sameJSON(t, body, m.Body) {
			t.Errorf("mail %d: body is not the message's JSON", i)
		}
	}
}

func TestSMTPPartialFailure(t *testing.T) {
	sink := newSMTPSink(t, 2)
	tg := openTarget(t, Spec{Name: "mail", Kind: KindSMTP, URL: "smtp://" + sink.Addr(),
		Options: map[string]string{"from": "firn@example.com", "to": "ops@example.com"}})
	n, err := tg.Send(context.Background(), testMsgs("part", 4))
	if n != 2 || err == nil || !strings.Contains(err.Error(), "554") {
		t.Fatalf("Send = %d, %v; want 2 and a 554 error", n, err)
	}
}

func TestSMTPStartTLSAlways(t *testing.T) {
	sink := newSMTPSink(t, -1)
	tg := openTarget(t, Spec{Name: "mail", Kind: KindSMTP, URL: "smtp://" + sink.Addr(),
		Options: map[string]string{"from": "firn@example.com", "to": "ops@example.com", "starttls": "always"}})
	n, err := tg.Send(context.Background(), testMsgs("tls", 1))
	if n != 0 || err == nil || !strings.Contains(err.Error(), "STARTTLS") {
		t.Fatalf("Send = %d, %v; want 0 and a STARTTLS error", n, err)
	}
	if len(sink.Mails()) != 0 {
		t.Error("mail sent without TLS")
	}
}

func TestSMTPUnreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	tg := openTarget(t, Spec{Name: "mail", Kind: KindSMTP, URL: "smtp://bob:Sm7pSecret@" + addr,
		Options: map[string]string{"from": "firn@example.com", "to": "ops@example.com"}})
	n, err := tg.Send(context.Background(), testMsgs("x", 2))
	if n != 0 || err == nil || strings.Contains(err.Error(), "Sm7pSecret") {
		t.Fatalf("Send = %d, %v", n, err)
	}
}

func TestSMTPHeaderInjection(t *testing.T) {
	tg := &smtpTarget{prefix: "[firn]", domain: "example.com"}
	tg.from, _ = mail.ParseAddress("firn@example.com")
	tg.to, _ = mail.ParseAddressList("ops@example.com")
	m := Message{ID: "a\r\nBcc: evil@example.com", Event: "X\r\nBcc: evil@example.com", Bucket: "b", Key: "k\nBcc: evil@example.com", Body: []byte(`{}`)}
	raw := tg.compose(m, time.Now())
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	if len(msg.Header["Bcc"]) != 0 {
		t.Fatalf("header injected:\n%s", raw)
	}
	var dec mime.WordDecoder
	if got, _ := dec.DecodeHeader(msg.Header.Get("X-Firn-Event-Id")); got != m.ID {
		t.Errorf("X-Firn-Event-Id decodes to %q", got)
	}
}

package target

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/smtp"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"
)

// smtpTarget sends an email per message.
type smtpTarget struct {
	base
	host        string // for TLS and AUTH
	addr        string // host:port
	implicitTLS bool
	starttls    string // auto, always or never
	insecure    bool
	user, pass  string
	hasUser     bool
	from        *mail.Address
	to          []*mail.Address
	prefix      string
	domain      string // of Message-IDs

	guard
}

func openSMTP(b base) (Target, error) {
	u, err := url.Parse(b.spec.URL)
	if err != nil {
		return nil, b.fail("open", err)
	}
	o := b.spec.Options
	t := &smtpTarget{
		base:        b,
		host:        u.Hostname(),
		implicitTLS: u.Scheme == "smtps",
		starttls:    optDefault(o, "starttls", "auto"),
		insecure:    optBool(o, "insecure_skip_verify", false),
		prefix:      optDefault(o, "subject_prefix", "[firn]"),
	}
	port := u.Port()
	if port == "" {
		port = "25"
		if t.implicitTLS {
			port = "465"
		}
	}
	t.addr = net.JoinHostPort(t.host, port)
	if u.User != nil {
		t.hasUser = true
		t.user = u.User.Username()
		t.pass, _ = u.User.Password()
	}
	if t.from, err = mail.ParseAddress(o["from"]); err != nil {
		return nil, b.fail("open", fmt.Errorf("option from: %w", err))
	}
	if t.to, err = mail.ParseAddressList(o["to"]); err != nil {
		return nil, b.fail("open", fmt.Errorf("option to: %w", err))
	}
	t.domain = "firn.invalid"
	if _, d, ok := strings.Cut(t.from.Address, "@"); ok && safeAtom(d) {
		t.domain = d
	}
	return t, nil
}

func (t *smtpTarget) tlsConfig() *tls.Config {
	return &tls.Config{ServerName: t.host, InsecureSkipVerify: t.insecure, MinVersion: tls.VersionTLS12}
}

// Send opens a connection, sends an email per message on it and quits.
func (t *smtpTarget) Send(ctx context.Context, msgs []Message) (int, error) {
	return t.send(ctx, &t.guard, msgs, t.deliver)
}

// deliver is Send on one new connection.
func (t *smtpTarget) deliver(ctx context.Context, msgs []Message) (int, error) {
	conn, err := (&net.Dialer{}).DialContext(ctx, "tcp", t.addr)
	if err != nil {
		return 0, t.fail("connect", err)
	}
	defer conn.Close()
	// net/smtp takes no context: the deadline and closing the connection
	// when ctx ends bound every exchange.
	if d, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(d)
	}
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	c, err := t.hello(ctx, conn)
	if err != nil {
		return 0, t.fail("connect", ctxErr(ctx, err))
	}
	defer c.Close()
	now := time.Now()
	for i, m := range msgs {
		if err := t.mail(c, m, now); err != nil {
			return i, t.failMsg(msgs, i, ctxErr(ctx, err))
		}
	}
	// Every message was accepted; a failing QUIT changes nothing.
	_ = c.Quit()
	return len(msgs), nil
}

// ctxErr prefers ctx's error to the one closing the connection caused.
func ctxErr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("%w (%v)", ctx.Err(), err)
	}
	return err
}

// hello sets the session up: TLS, EHLO, STARTTLS, AUTH.
func (t *smtpTarget) hello(ctx context.Context, conn net.Conn) (*smtp.Client, error) {
	if t.implicitTLS {
		tc := tls.Client(conn, t.tlsConfig())
		if err := tc.HandshakeContext(ctx); err != nil {
			return nil, err
		}
		conn = tc
	}
	c, err := smtp.NewClient(conn, t.host)
	if err != nil {
		return nil, err
	}
	if !t.implicitTLS && t.starttls != "never" {
		ok, _ := c.Extension("STARTTLS")
		switch {
		case ok:
			if err := c.StartTLS(t.tlsConfig()); err != nil {
				c.Close()
				return nil, fmt.Errorf("STARTTLS: %w", err)
			}
		case t.starttls == "always":
			c.Close()
			return nil, errors.New("server does not offer STARTTLS (starttls=always)")
		}
	}
	if t.hasUser {
		if err := c.Auth(smtp.PlainAuth("", t.user, t.pass, t.host)); err != nil {
			c.Close()
			return nil, fmt.Errorf("AUTH: %w", err)
		}
	}
	return c, nil
}

// mail sends one message.
func (t *smtpTarget) mail(c *smtp.Client, m Message, now time.Time) error {
	if err := c.Mail(t.from.Address); err != nil {
		return fmt.Errorf("MAIL FROM: %w", err)
	}
	for _, a := range t.to {
		if err := c.Rcpt(a.Address); err != nil {
			return fmt.Errorf("RCPT TO %s: %w", a.Address, err)
		}
	}
	w, err := c.Data()
	if err != nil {
		return fmt.Errorf("DATA: %w", err)
	}
	if _, err := w.Write(t.compose(m, now)); err != nil {
		w.Close()
		return fmt.Errorf("DATA: %w", err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("DATA: %w", err)
	}
	return nil
}

// compose renders the email of m.
func (t *smtpTarget) compose(m Message, now time.Time) []byte {
	var b bytes.Buffer
	header := func(k, v string) {
		b.WriteString(k)
		b.WriteString(": ")
		b.WriteString(v)
		b.WriteString("\r\n")
	}
	to := make([]string, len(t.to))
	for i, a := range t.to {
		to[i] = a.String()
	}
	header("From", t.from.String())
	header("To", strings.Join(to, ",\r\n "))
	header("Subject", encodeHeader(emailSubject(t.prefix, m)))
	header("Date", now.Format(time.RFC1123Z))
	header("Message-ID", messageID(m.ID, t.domain))
	header("MIME-Version", "1.0")
	header("Content-Type", "text/plain; charset=utf-8")
	header("Content-Transfer-Encoding", "quoted-printable")
	header(HeaderEventID, encodeHeader(m.ID))
	header(HeaderEvent, encodeHeader(m.Event))
	b.WriteString("\r\n")
	qp := quotedprintable.NewWriter(&b)
	_, _ = qp.Write(prettyBody(m.Body))
	_ = qp.Close()
	return b.Bytes()
}

// emailSubject returns the subject of m's email before header encoding:
// "<prefix> <Event> s3://<bucket>/<key>" (the object part left out when
// Bucket is empty, a key longer than 200 bytes shortened with "...").
func emailSubject(prefix string, m Message) string {
	s := m.Event
	if prefix != "" {
		s = prefix + " " + s
	}
	if m.Bucket != "" {
		key := m.Key
		if len(key) > 200 {
			cut := 200
			for cut > 0 && !utf8.RuneStart(key[cut]) {
				cut--
			}
			key = key[:cut] + "..."
		}
		s += " s3://" + m.Bucket + "/" + key
	}
	return s
}

// messageID returns the Message-ID of the email for message id: "<id@domain>"
// when id is a dot-atom of letters, digits, '-', '_' and '.', otherwise
// "<sha256-prefix@domain>" of it.
func messageID(id, domain string) string {
	local := id
	if !safeAtom(id) || len(id) > 128 {
		sum := sha256.Sum256([]byte(id))
		local = "h" + hex.EncodeToString(sum[:16])
	}
	return "<" + local + "@" + domain + ">"
}

// safeAtom reports whether s is a non-empty dot-atom of letters, digits,
// '-' and '_'.
func safeAtom(s string) bool {
	if s == "" || s[0] == '.' || s[len(s)-1] == '.' || strings.Contains(s, "..") {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '-', c == '_', c == '.':
		default:
			return false
		}
	}
	return true
}

// encodeHeader makes s safe as a header value: RFC 2047 encoded when it
// holds anything but printable ASCII (line breaks included).
func encodeHeader(s string) string {
	return mime.QEncoding.Encode("utf-8", strings.ToValidUTF8(s, "\uFFFD"))
}

// prettyBody returns body indented as JSON with a final newline, or body
// unchanged when it is not JSON.
func prettyBody(body []byte) []byte {
	var b bytes.Buffer
	if err := json.Indent(&b, body, "", "  "); err != nil {
		return body
	}
	b.WriteByte('\n')
	return b.Bytes()
}

// Close marks the target closed; it holds no connection between Sends.
func (t *smtpTarget) Close() error {
	return t.closeWith(nil)
}

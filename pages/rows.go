package pages

import (
	"html/template"
	"strings"
	"time"
)

// loginRow is one login of the account page.
type loginRow struct {
	ID, Device, IP        string // Device "" is shown as an unknown device
	LastSeenAt, CreatedAt time.Time
	Current, Token        bool
	// App marks an app's sign-in through OpenID Connect; Device is then
	// the app's name.
	App bool
}

// shownFormat is how the pages write a time: the same in every language,
// in UTC; <time datetime> holds it in RFC 3339.
const shownFormat = "2006-01-02 15:04 UTC"

// shownTime and isoTime write a time as the pages show it, and as
// <time datetime> holds it.
func shownTime(t time.Time) string { return t.UTC().Format(shownFormat) }
func isoTime(t time.Time) string   { return t.UTC().Format(time.RFC3339) }

// loginsHTML writes the account page's list of logins. It is written in
// Go rather than in account.html because html/template spends about a
// microsecond per action through reflection, and a list of up to 100
// logins (gatehouse.MaxLoginsPerUser) has a dozen actions per row: this
// keeps the page within its budget. It writes straight into one buffer,
// times included, with no string made per value. Every value is escaped
// with htmlText, as html/template escapes text and quoted attribute
// values, the only two places values appear below.
func loginsHTML(m messages, rows []loginRow) template.HTML {
	e := htmlText.Replace
	token, app, here := e(m.T("account.mode_token")), e(m.T("account.mode_oidc")), e(m.T("account.this_one"))
	address, seen, since := e(m.T("account.address")), e(m.T("account.last_seen")), e(m.T("account.signed_in_at"))
	signout, unknown := e(m.T("account.signout_one")), m.T("account.device_unknown")
	// The button's accessible name, "Sign out of %s, last seen %s", is
	// filled in piece by piece.
	label := strings.Split(e(m.T("account.signout_one_aria")), "%s")
	var b strings.Builder
	b.Grow(len(rows) * 900)
	var scratch [64]byte
	writeTime := func(t time.Time, layout string) { b.Write(t.UTC().AppendFormat(scratch[:0], layout)) }
	text := func(s string) { htmlText.WriteString(&b, s) }
	for _, r := range rows {
		device := r.Device
		if device == "" {
			device = unknown
		}
		b.WriteString(`<li class="login`)
		if r.Current {
			b.WriteString(` current`)
		}
		b.WriteString("\">\n<div class=\"what\"><span class=\"device\">")
		text(device)
		b.WriteString(`</span>`)
		if r.Token || r.App {
			b.WriteString(` <span class="tag">`)
			if r.App {
				b.WriteString(app)
			} else {
				b.WriteString(token)
			}
			b.WriteString(`</span>`)
		}
		if r.Current {
			b.WriteString(` <span class="tag here">`)
			b.WriteString(here)
			b.WriteString(`</span>`)
		}
		b.WriteString("</div>\n<dl class=\"facts\"><div><dt>")
		b.WriteString(address)
		b.WriteString(`</dt><dd>`)
		text(r.IP)
		b.WriteString(`</dd></div><div><dt>`)
		b.WriteString(seen)
		b.WriteString(`</dt><dd><time datetime="`)
		writeTime(r.LastSeenAt, time.RFC3339)
		b.WriteString(`">`)
		writeTime(r.LastSeenAt, shownFormat)
		b.WriteString(`</time></dd></div><div><dt>`)
		b.WriteString(since)
		b.WriteString(`</dt><dd><time datetime="`)
		writeTime(r.CreatedAt, time.RFC3339)
		b.WriteString(`">`)
		writeTime(r.CreatedAt, shownFormat)
		b.WriteString("</time></dd></div></dl>\n" +
			`<form method="post" action="/auth/account/logins/signout" class="inline">` +
			`<input type="hidden" name="id" value="`)
		text(r.ID)
		b.WriteString(`"><button type="submit" class="secondary" aria-label="`)
		for i, part := range label {
			b.WriteString(part)
			switch i {
			case 0:
				text(device)
			case 1:
				writeTime(r.LastSeenAt, shownFormat)
			}
		}
		b.WriteString(`">`)
		b.WriteString(signout)
		b.WriteString("</button></form>\n</li>\n")
	}
	return template.HTML(b.String())
}

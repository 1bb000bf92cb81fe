package pages

import (
	"html"
	"html/template"
	"strings"
)

// loginsHTML writes the account page's list of logins. It is written in
// Go rather than in account.html because html/template spends about a
// microsecond per action through reflection, and a list of up to 100
// logins (gatehouse.MaxLoginsPerUser) has a dozen actions per row: this
// keeps the page within its budget. Every value is escaped with
// html.EscapeString, which is right both in text and in a double-quoted
// attribute, the only two places values appear below.
func loginsHTML(m messages, rows []loginRow) template.HTML {
	e := html.EscapeString
	token, here := e(m.T("account.mode_token")), e(m.T("account.this_one"))
	address, seen, since := e(m.T("account.address")), e(m.T("account.last_seen")), e(m.T("account.signed_in_at"))
	signout := e(m.T("account.signout_one"))
	var b strings.Builder
	b.Grow(len(rows) * 900)
	for _, r := range rows {
		b.WriteString(`<li class="login`)
		if r.Current {
			b.WriteString(` current`)
		}
		b.WriteString("\">\n<div class=\"what\"><span class=\"device\">" + e(r.Device) + `</span>`)
		if r.Token {
			b.WriteString(` <span class="tag">` + token + `</span>`)
		}
		if r.Current {
			b.WriteString(` <span class="tag here">` + here + `</span>`)
		}
		b.WriteString("</div>\n<dl class=\"facts\">" +
			`<div><dt>` + address + `</dt><dd>` + e(r.IP) + `</dd></div>` +
			`<div><dt>` + seen + `</dt><dd><time datetime="` + e(r.LastSeenISO) + `">` + e(r.LastSeen) + `</time></dd></div>` +
			`<div><dt>` + since + `</dt><dd><time datetime="` + e(r.CreatedISO) + `">` + e(r.Created) + `</time></dd></div>` +
			"</dl>\n" +
			`<form method="post" action="/auth/account/logins/signout" class="inline">` +
			`<input type="hidden" name="id" value="` + e(r.ID) + `">` +
			`<button type="submit" class="secondary" aria-label="` + e(r.SignoutLabel) + `">` + signout + `</button>` +
			"</form>\n</li>\n")
	}
	return template.HTML(b.String())
}

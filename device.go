package gatehouse

import "strings"

// MaxDeviceLength caps the device name a client may send at login.
const MaxDeviceLength = 64

// DeviceName returns a short readable name for a user agent, such as
// "Firefox on macOS", so that a sessions list answers "which of these is my
// phone?". It reads only well-known tokens and returns "" when it
// recognises nothing.
func DeviceName(ua string) string {
	browser := firstMatch(ua, []nameToken{
		{"Edg/", "Edge"}, {"EdgA/", "Edge"}, {"OPR/", "Opera"}, {"SamsungBrowser/", "Samsung Internet"},
		{"Firefox/", "Firefox"}, {"FxiOS/", "Firefox"}, {"CriOS/", "Chrome"}, {"Chromium/", "Chromium"},
		{"Chrome/", "Chrome"}, {"Safari/", "Safari"}, {"curl/", "curl"}, {"Go-http-client/", "Go"},
		{"python-requests/", "Python"}, {"okhttp/", "OkHttp"},
	})
	os := firstMatch(ua, []nameToken{
		{"iPhone", "iPhone"}, {"iPad", "iPad"}, {"Android", "Android"}, {"CrOS", "ChromeOS"},
		{"Mac OS X", "macOS"}, {"Macintosh", "macOS"}, {"Windows", "Windows"}, {"Linux", "Linux"},
	})
	switch {
	case browser != "" && os != "":
		return browser + " on " + os
	case browser != "":
		return browser
	default:
		return os
	}
}

type nameToken struct{ token, name string }

func firstMatch(s string, tokens []nameToken) string {
	for _, t := range tokens {
		if strings.Contains(s, t.token) {
			return t.name
		}
	}
	return ""
}

package pages

import (
	"fmt"
	"strconv"
	"strings"
)

// messages is one language's words, by key. Every language has every key
// (a test holds them to it); a key missing all the same shows as
// "[key]" rather than as nothing.
type messages map[string]string

// T returns the words of key.
func (m messages) T(key string) string {
	if s, ok := m[key]; ok {
		return s
	}
	return "[" + key + "]"
}

// F returns the words of key with args in place of its verbs (%s).
func (m messages) F(key string, args ...any) string { return fmt.Sprintf(m.T(key), args...) }

// catalogue holds every language the pages speak; the first of languages
// is the default.
var (
	languages = []string{"en", "fr"}
	catalogue = map[string]messages{"en": english, "fr": french}
)

// pickLanguage returns the language of the catalogue that an
// Accept-Language header prefers most ("fr-CA;q=0.9, en;q=0.8"), or the
// default. Only the primary subtag counts.
func pickLanguage(header string) string {
	best, bestQ := languages[0], -1.0
	for part := range strings.SplitSeq(header, ",") {
		tag, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		q := 1.0
		if v, ok := strings.CutPrefix(strings.TrimSpace(params), "q="); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				continue
			}
			q = f
		}
		primary, _, _ := strings.Cut(strings.ToLower(tag), "-")
		if _, ok := catalogue[primary]; ok && q > 0 && q > bestQ {
			best, bestQ = primary, q
		}
	}
	return best
}

var english = messages{
	"lang.name": "English",

	"nav.label":   "Account",
	"nav.account": "Your account",
	"nav.signout": "Sign out",
	"nav.admin":   "Users",
	"nav.audit":   "Audit log",
	"footer.note": "Protected by %s. Your password is never shared with the apps you sign in to.",

	"signin.title":       "Sign in",
	"signin.heading":     "Sign in to %s",
	"signin.intro":       "Use your email and password.",
	"signin.signed_in":   "You are signed in as %s. Signing in here with another account signs that one out in this browser.",
	"signin.returning":   "You will return to %s.",
	"signin.submit":      "Sign in",
	"signin.no_account":  "No account yet?",
	"signin.signup_link": "Create one",

	"signup.title":      "Create an account",
	"signup.heading":    "Create your %s account",
	"signup.submit":     "Create account",
	"signup.have":       "Already have an account?",
	"signup.signinlink": "Sign in",
	"signup.hint":       "At least %d characters. A long phrase is easier to remember and harder to guess.",

	"field.email":            "Email",
	"field.password":         "Password",
	"field.remember":         "Keep me signed in on this device",
	"field.current_password": "Current password",
	"field.new_password":     "New password",

	"account.title":            "Your account",
	"account.heading":          "Your account",
	"account.email":            "Signed in as",
	"account.password":         "Change password",
	"account.password_note":    "Changing your password signs you out everywhere else.",
	"account.password_submit":  "Change password",
	"account.logins":           "Where you are signed in",
	"account.logins_note":      "Each login is one browser or app. Sign out of any you do not recognise.",
	"account.device_unknown":   "Unknown device",
	"account.mode_token":       "App (token)",
	"account.address":          "Address",
	"account.last_seen":        "Last seen",
	"account.signed_in_at":     "Signed in",
	"account.this_one":         "This device",
	"account.signout_one":      "Sign out",
	"account.signout_one_aria": "Sign out of %s, last seen %s",
	"account.signout_others":   "Sign out everywhere else",
	"account.only_this":        "This is your only login.",

	"notice.password_changed":  "Your password was changed. Every other login was signed out.",
	"notice.signed_out_one":    "That login was signed out.",
	"notice.signed_out_others": "Every other login was signed out.",

	"admin.users_title":       "Users",
	"admin.user_title":        "User",
	"admin.audit_title":       "Audit log",
	"admin.users_heading":     "Users",
	"admin.find":              "Find users",
	"admin.email_prefix":      "Email starts with",
	"admin.email_prefix_hint": "Leave empty to list everyone.",
	"admin.search":            "Search",
	"admin.users":             "Accounts",
	"admin.roles":             "Roles",
	"admin.state":             "State",
	"admin.created":           "Created",
	"admin.no_roles":          "None",
	"admin.disabled":          "Disabled",
	"admin.active":            "Active",
	"admin.no_users":          "No account matches.",
	"admin.next_page":         "Next page",
	"admin.no_such_user":      "There is no such user.",
	"admin.account":           "Account",
	"admin.id":                "Id",
	"admin.disable":           "Disable account",
	"admin.disable_note":      "Disabling the account signs it out everywhere at once; it cannot sign in until enabled again.",
	"admin.enable":            "Enable account",
	"admin.roles_note":        "Roles grant permissions. You can give only permissions you hold yourself.",
	"admin.save_roles":        "Save roles",
	"admin.logins":            "Where this user is signed in",
	"admin.device":            "Device",
	"admin.mode":              "Kind",
	"admin.mode_session":      "Browser (session)",
	"admin.signout_all":       "Sign out everywhere",
	"admin.no_logins":         "This user is signed in nowhere.",
	"admin.recent_events":     "Recent activity",
	"admin.all_events":        "All of this user's events",
	"admin.audit_heading":     "Audit log",
	"admin.filter":            "Filter",
	"admin.filter_user":       "User (id or email)",
	"admin.filter_type":       "Event type",
	"admin.all_types":         "All types",
	"admin.apply":             "Show",
	"admin.events":            "Events, newest first",
	"admin.at":                "Time",
	"admin.type":              "Type",
	"admin.user":              "User",
	"admin.detail":            "Detail",
	"admin.no_events":         "No event matches.",
	"notice.user_disabled":    "The account was disabled and signed out everywhere.",
	"notice.user_enabled":     "The account was enabled.",
	"notice.roles_set":        "The roles were saved.",
	"notice.user_signed_out":  "The user was signed out everywhere.",

	"forbidden.title":   "No access",
	"forbidden.heading": "You do not have access to this page",
	"forbidden.who":     "You are signed in as %s.",
	"forbidden.missing": "This page needs the permission %s, which your account does not have. Ask an administrator if you need it.",
	"forbidden.switch":  "Sign in as someone else",

	"problem.not_found":          "There is no page here.",
	"problem.method_not_allowed": "This page cannot be used that way.",
	"problem.home":               "Go to your account",

	"error.invalid_request":      "Please fill in every field.",
	"error.invalid_email":        "That does not look like an email address.",
	"error.weak_password":        "That password is too weak: use at least %d characters, and not a common password.",
	"error.email_taken":          "An account with this email already exists. Try signing in.",
	"error.signup_disabled":      "New accounts cannot be created here. Ask an administrator for one.",
	"error.invalid_credentials":  "That email and password do not match.",
	"error.account_disabled":     "This account is disabled. Ask an administrator.",
	"error.cross_origin":         "This form was sent from another site, so nothing was changed. Open the page again and retry.",
	"error.too_many_attempts":    "Too many attempts. Wait a few minutes, then try again.",
	"error.unauthenticated":      "Please sign in again.",
	"error.invalid_token":        "Please sign in again.",
	"error.refresh_token_reused": "Please sign in again.",
	"error.not_found":            "That login no longer exists.",
	"error.forbidden":            "You are not allowed to do that.",
	"error.method_not_allowed":   "This page cannot be used that way.",
	"error.unavailable":          "The service is briefly unavailable. Try again in a moment.",
	"error.internal":             "Something went wrong on our side. Try again in a moment.",
	"error.title":                "Something went wrong",

	"signin.forgot":               "Forgot your password?",
	"account.verified":            "Verified",
	"account.unverified":          "Not verified",
	"account.resend":              "Send a new confirmation link",
	"account.change_email":        "Change your email address",
	"account.change_email_note":   "We send a link to the new address; nothing changes until you open it. Your current address is told of the change.",
	"account.change_email_submit": "Send the confirmation link",
	"field.new_email":             "New email address",
	"recover.title":               "Forgot your password",
	"recover.heading":             "Forgot your password?",
	"recover.intro":               "Enter the email address of your account. We will send it a link to choose a new password.",
	"recover.submit":              "Send me a link",
	"recover.sent":                "If an account exists for %s, a link to choose a new password is on its way.",
	"recover.next":                "Open the link in the message soon: it works for a short time, and only the newest one works. Nothing arrived? Look in your spam folder, or ask again in a few minutes.",
	"recover.back":                "Back to sign in",
	"reset.title":                 "Choose a new password",
	"reset.heading":               "Choose a new password",
	"reset.intro":                 "For the account %s.",
	"reset.submit":                "Set the new password",
	"reset.note":                  "Every device signed in to this account will be signed out.",
	"verify.title":                "Confirm your email address",
	"verify.heading":              "Confirm your email address",
	"verify.intro":                "Confirm that %s is your address.",
	"verify.submit":               "Confirm",
	"verify.to_account":           "Go to your account",
	"link.invalid":                "This link no longer works: it was used already, it expired, or a newer one was sent.",
	"link.ask_again":              "Ask for a new link",
	"notice.password_reset":       "Your password was changed and every device was signed out. Sign in with the new password.",
	"notice.email_verified":       "Your email address is confirmed.",
	"notice.email_change_sent":    "We sent a confirmation link to the new address. Nothing changes until you open it.",
	"notice.verification_sent":    "We sent you a new confirmation link.",
	"error.email_disabled":        "Email is not set up here. Ask an administrator for help.",
	"error.already_verified":      "This address is already confirmed.",
	"error.email_unverified":      "Confirm your email address first: open the link we sent you. No link? Use “Forgot your password?”.",
	"admin.recovery":              "Password",
	"admin.recovery_note":         "Send the user a link to choose a new password. Using it signs them out everywhere.",
	"admin.recovery_submit":       "Send a reset link",
	"notice.reset_sent":           "A reset link was sent to the user.",
}

var french = messages{
	"lang.name": "Français",

	"nav.label":   "Compte",
	"nav.account": "Votre compte",
	"nav.signout": "Se déconnecter",
	"nav.admin":   "Utilisateurs",
	"nav.audit":   "Journal d’audit",
	"footer.note": "Protégé par %s. Votre mot de passe n’est jamais transmis aux applications auxquelles vous vous connectez.",

	"signin.title":       "Connexion",
	"signin.heading":     "Connexion à %s",
	"signin.intro":       "Utilisez votre adresse e-mail et votre mot de passe.",
	"signin.signed_in":   "Vous êtes connecté en tant que %s. Vous connecter ici avec un autre compte déconnecte celui-ci dans ce navigateur.",
	"signin.returning":   "Vous reviendrez ensuite sur %s.",
	"signin.submit":      "Se connecter",
	"signin.no_account":  "Pas encore de compte ?",
	"signin.signup_link": "En créer un",

	"signup.title":      "Créer un compte",
	"signup.heading":    "Créer votre compte %s",
	"signup.submit":     "Créer le compte",
	"signup.have":       "Vous avez déjà un compte ?",
	"signup.signinlink": "Se connecter",
	"signup.hint":       "Au moins %d caractères. Une longue phrase est plus facile à retenir et plus difficile à deviner.",

	"field.email":            "Adresse e-mail",
	"field.password":         "Mot de passe",
	"field.remember":         "Rester connecté sur cet appareil",
	"field.current_password": "Mot de passe actuel",
	"field.new_password":     "Nouveau mot de passe",

	"account.title":            "Votre compte",
	"account.heading":          "Votre compte",
	"account.email":            "Connecté en tant que",
	"account.password":         "Changer de mot de passe",
	"account.password_note":    "Changer de mot de passe vous déconnecte partout ailleurs.",
	"account.password_submit":  "Changer le mot de passe",
	"account.logins":           "Où vous êtes connecté",
	"account.logins_note":      "Chaque connexion est un navigateur ou une application. Déconnectez celles que vous ne reconnaissez pas.",
	"account.device_unknown":   "Appareil inconnu",
	"account.mode_token":       "Application (jeton)",
	"account.address":          "Adresse",
	"account.last_seen":        "Dernière activité",
	"account.signed_in_at":     "Connecté le",
	"account.this_one":         "Cet appareil",
	"account.signout_one":      "Déconnecter",
	"account.signout_one_aria": "Déconnecter %s, dernière activité %s",
	"account.signout_others":   "Se déconnecter partout ailleurs",
	"account.only_this":        "C’est votre seule connexion.",

	"notice.password_changed":  "Votre mot de passe a été changé. Toutes les autres connexions ont été fermées.",
	"notice.signed_out_one":    "Cette connexion a été fermée.",
	"notice.signed_out_others": "Toutes les autres connexions ont été fermées.",

	"admin.users_title":       "Utilisateurs",
	"admin.user_title":        "Utilisateur",
	"admin.audit_title":       "Journal d’audit",
	"admin.users_heading":     "Utilisateurs",
	"admin.find":              "Trouver des utilisateurs",
	"admin.email_prefix":      "L’adresse e-mail commence par",
	"admin.email_prefix_hint": "Laissez vide pour lister tout le monde.",
	"admin.search":            "Rechercher",
	"admin.users":             "Comptes",
	"admin.roles":             "Rôles",
	"admin.state":             "État",
	"admin.created":           "Créé le",
	"admin.no_roles":          "Aucun",
	"admin.disabled":          "Désactivé",
	"admin.active":            "Actif",
	"admin.no_users":          "Aucun compte ne correspond.",
	"admin.next_page":         "Page suivante",
	"admin.no_such_user":      "Cet utilisateur n’existe pas.",
	"admin.account":           "Compte",
	"admin.id":                "Identifiant",
	"admin.disable":           "Désactiver le compte",
	"admin.disable_note":      "Désactiver le compte le déconnecte partout immédiatement ; il ne peut plus se connecter tant qu’il n’est pas réactivé.",
	"admin.enable":            "Réactiver le compte",
	"admin.roles_note":        "Les rôles donnent des permissions. Vous ne pouvez donner que des permissions que vous avez vous-même.",
	"admin.save_roles":        "Enregistrer les rôles",
	"admin.logins":            "Où cet utilisateur est connecté",
	"admin.device":            "Appareil",
	"admin.mode":              "Type",
	"admin.mode_session":      "Navigateur (session)",
	"admin.signout_all":       "Déconnecter partout",
	"admin.no_logins":         "Cet utilisateur n’est connecté nulle part.",
	"admin.recent_events":     "Activité récente",
	"admin.all_events":        "Tous les événements de cet utilisateur",
	"admin.audit_heading":     "Journal d’audit",
	"admin.filter":            "Filtrer",
	"admin.filter_user":       "Utilisateur (identifiant ou adresse e-mail)",
	"admin.filter_type":       "Type d’événement",
	"admin.all_types":         "Tous les types",
	"admin.apply":             "Afficher",
	"admin.events":            "Événements, du plus récent au plus ancien",
	"admin.at":                "Heure",
	"admin.type":              "Type",
	"admin.user":              "Utilisateur",
	"admin.detail":            "Détail",
	"admin.no_events":         "Aucun événement ne correspond.",
	"notice.user_disabled":    "Le compte a été désactivé et déconnecté partout.",
	"notice.user_enabled":     "Le compte a été réactivé.",
	"notice.roles_set":        "Les rôles ont été enregistrés.",
	"notice.user_signed_out":  "L’utilisateur a été déconnecté partout.",

	"forbidden.title":   "Accès refusé",
	"forbidden.heading": "Vous n’avez pas accès à cette page",
	"forbidden.who":     "Vous êtes connecté en tant que %s.",
	"forbidden.missing": "Cette page demande la permission %s, que votre compte n’a pas. Demandez-la à un administrateur si vous en avez besoin.",
	"forbidden.switch":  "Se connecter avec un autre compte",

	"problem.not_found":          "Il n’y a pas de page ici.",
	"problem.method_not_allowed": "Cette page ne s’utilise pas ainsi.",
	"problem.home":               "Aller à votre compte",

	"error.invalid_request":      "Veuillez remplir tous les champs.",
	"error.invalid_email":        "Cela ne ressemble pas à une adresse e-mail.",
	"error.weak_password":        "Ce mot de passe est trop faible : au moins %d caractères, et pas un mot de passe courant.",
	"error.email_taken":          "Un compte existe déjà avec cette adresse. Essayez de vous connecter.",
	"error.signup_disabled":      "On ne peut pas créer de compte ici. Demandez-en un à un administrateur.",
	"error.invalid_credentials":  "L’adresse e-mail et le mot de passe ne correspondent pas.",
	"error.account_disabled":     "Ce compte est désactivé. Contactez un administrateur.",
	"error.cross_origin":         "Ce formulaire a été envoyé depuis un autre site : rien n’a été modifié. Rouvrez la page et réessayez.",
	"error.too_many_attempts":    "Trop de tentatives. Attendez quelques minutes avant de réessayer.",
	"error.unauthenticated":      "Veuillez vous reconnecter.",
	"error.invalid_token":        "Veuillez vous reconnecter.",
	"error.refresh_token_reused": "Veuillez vous reconnecter.",
	"error.not_found":            "Cette connexion n’existe plus.",
	"error.forbidden":            "Vous n’avez pas le droit de faire cela.",
	"error.method_not_allowed":   "Cette page ne s’utilise pas ainsi.",
	"error.unavailable":          "Le service est momentanément indisponible. Réessayez dans un instant.",
	"error.internal":             "Un problème est survenu de notre côté. Réessayez dans un instant.",
	"error.title":                "Un problème est survenu",

	"signin.forgot":               "Mot de passe oublié ?",
	"account.verified":            "Confirmée",
	"account.unverified":          "Non confirmée",
	"account.resend":              "Envoyer un nouveau lien de confirmation",
	"account.change_email":        "Changer d’adresse e-mail",
	"account.change_email_note":   "Nous envoyons un lien à la nouvelle adresse ; rien ne change tant que vous ne l’avez pas ouvert. Votre adresse actuelle est prévenue du changement.",
	"account.change_email_submit": "Envoyer le lien de confirmation",
	"field.new_email":             "Nouvelle adresse e-mail",
	"recover.title":               "Mot de passe oublié",
	"recover.heading":             "Mot de passe oublié ?",
	"recover.intro":               "Saisissez l’adresse e-mail de votre compte. Nous y enverrons un lien pour choisir un nouveau mot de passe.",
	"recover.submit":              "M’envoyer un lien",
	"recover.sent":                "Si un compte existe pour %s, un lien pour choisir un nouveau mot de passe est en route.",
	"recover.next":                "Ouvrez vite le lien du message : il ne vaut que peu de temps, et seul le plus récent fonctionne. Rien reçu ? Regardez dans vos indésirables, ou redemandez dans quelques minutes.",
	"recover.back":                "Retour à la connexion",
	"reset.title":                 "Choisir un nouveau mot de passe",
	"reset.heading":               "Choisir un nouveau mot de passe",
	"reset.intro":                 "Pour le compte %s.",
	"reset.submit":                "Enregistrer le nouveau mot de passe",
	"reset.note":                  "Tous les appareils connectés à ce compte seront déconnectés.",
	"verify.title":                "Confirmer votre adresse e-mail",
	"verify.heading":              "Confirmer votre adresse e-mail",
	"verify.intro":                "Confirmez que %s est bien votre adresse.",
	"verify.submit":               "Confirmer",
	"verify.to_account":           "Aller à votre compte",
	"link.invalid":                "Ce lien ne fonctionne plus : il a déjà servi, il a expiré, ou un plus récent a été envoyé.",
	"link.ask_again":              "Demander un nouveau lien",
	"notice.password_reset":       "Votre mot de passe a été changé et tous les appareils ont été déconnectés. Connectez-vous avec le nouveau mot de passe.",
	"notice.email_verified":       "Votre adresse e-mail est confirmée.",
	"notice.email_change_sent":    "Nous avons envoyé un lien de confirmation à la nouvelle adresse. Rien ne change tant que vous ne l’avez pas ouvert.",
	"notice.verification_sent":    "Nous vous avons envoyé un nouveau lien de confirmation.",
	"error.email_disabled":        "L’e-mail n’est pas configuré ici. Demandez de l’aide à un administrateur.",
	"error.already_verified":      "Cette adresse est déjà confirmée.",
	"error.email_unverified":      "Confirmez d’abord votre adresse e-mail : ouvrez le lien que nous vous avons envoyé. Pas de lien ? Utilisez « Mot de passe oublié ? ».",
	"admin.recovery":              "Mot de passe",
	"admin.recovery_note":         "Envoyer à l’utilisateur un lien pour choisir un nouveau mot de passe. S’en servir le déconnecte partout.",
	"admin.recovery_submit":       "Envoyer un lien de réinitialisation",
	"notice.reset_sent":           "Un lien de réinitialisation a été envoyé à l’utilisateur.",
}

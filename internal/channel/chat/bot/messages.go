package bot

// defaultErrors are said after an invalid answer when the question has no error message of its
// own. They live here rather than in the web app's locale files because they become bot
// messages in the conversation itself, in the chatflow's language, whoever later reads it.
var defaultErrors = map[string]map[AnswerKind]string{
	"en": {
		TextAnswer:   "Please type an answer.",
		EmailAnswer:  "That doesn't look like an email address. Please check it and try again.",
		PhoneAnswer:  "Please enter a phone number with 7 to 15 digits, for example +44 20 7946 0958.",
		NumberAnswer: "Please enter a number.",
		DateAnswer:   "Please enter a date, for example 2025-03-31.",
		ChoiceAnswer: "Please pick one of the options.",
	},
	"sv": {
		TextAnswer:   "Skriv gärna ett svar.",
		EmailAnswer:  "Det ser inte ut som en e-postadress. Kontrollera den och försök igen.",
		PhoneAnswer:  "Ange ett telefonnummer med 7 till 15 siffror, till exempel +46 70 123 45 67.",
		NumberAnswer: "Ange ett tal.",
		DateAnswer:   "Ange ett datum, till exempel 2025-03-31.",
		ChoiceAnswer: "Välj ett av alternativen.",
	},
	"nb": {
		TextAnswer:   "Skriv gjerne et svar.",
		EmailAnswer:  "Det ser ikke ut som en e-postadresse. Sjekk den og prøv igjen.",
		PhoneAnswer:  "Oppgi et telefonnummer med 7 til 15 sifre, for eksempel +47 912 34 567.",
		NumberAnswer: "Oppgi et tall.",
		DateAnswer:   "Oppgi en dato, for eksempel 31.03.2025.",
		ChoiceAnswer: "Velg ett av alternativene.",
	},
	"da": {
		TextAnswer:   "Skriv venligst et svar.",
		EmailAnswer:  "Det ligner ikke en e-mailadresse. Tjek den, og prøv igen.",
		PhoneAnswer:  "Angiv et telefonnummer med 7 til 15 cifre, for eksempel +45 12 34 56 78.",
		NumberAnswer: "Angiv et tal.",
		DateAnswer:   "Angiv en dato, for eksempel 31.03.2025.",
		ChoiceAnswer: "Vælg en af mulighederne.",
	},
}

// DefaultErrorMessage is what the bot says after an invalid answer of kind when the question
// has no message of its own.
func DefaultErrorMessage(kind AnswerKind, lang string) string {
	if m, ok := defaultErrors[Language(lang)][kind]; ok {
		return m
	}
	return defaultErrors["en"][TextAnswer]
}

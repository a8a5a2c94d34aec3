#include "buildconf.h"

#include <stdlib.h>
#include <string.h>

#include "rsvp.h"
#include "text.h"

/* Phrases, folded (lower case, no accents). A declining phrase is checked
 * before the accepting words it contains ("no podre asistir" holds
 * "asistir"), and removed from the text before those are looked for. */
static const char *const declined[] = {
	"no podre", "no podremos", "no asistire", "no asistiremos", "no puedo",
	"no voy", "no ire", "no participare", "no sera posible", "lamentablemente no",
	"nao poderei", "nao poderemos", "nao vou", "nao posso", "nao irei",
	"nao participarei", "nao sera possivel", "infelizmente nao",
	"declino", "decline", "declined", "can't attend", "cannot attend", "will not attend",
};
static const char *const tentative[] = {
	"tal vez", "quizas", "quiza", "a confirmar", "talvez", "provavelmente",
	"a ser confirmado", "maybe", "tentative", "tentatively",
};
static const char *const accepted[] = {
	"asistire", "asistiremos", "alli estare", "participare",
	"vou participar", "vamos participar", "estarei presente", "participarei",
	"presenca confirmada", "presencia confirmada", "i will attend", "accept", "accepted",
};
/* "I don't know (yet)": neither yes nor no, whatever else is said. */
static const char *const undecided[] = { "no se", "no lo se", "nao sei", "don't know", "not sure" };
/* "Confirmo" alone accepts; next to a refusal or a doubt it only confirms
 * that ("confirmo que no podre"). */
static const char *const weak_yes[] = { "confirmo", "confirmamos", "confirmado" };
/* A bare yes or no counts only as the first word of the reply. */
static const char *const first_yes[] = { "si", "sim", "yes", "ok" };
static const char *const first_no[] = { "no", "nao" };

#define HEAD_MAX 400	/* bytes of the reply that are read */

static int
is_word_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || (unsigned char)c >= 0x80;
}

/* Where phrase occurs in s as whole words, or NULL. */
static char *
find_words(char *s, const char *phrase)
{
	size_t n = strlen(phrase);

	for (char *p = strstr(s, phrase); p; p = strstr(p + 1, phrase))
		if ((p == s || !is_word_char(p[-1])) && !is_word_char(p[n]))
			return p;
	return NULL;
}

/* 1 if any phrase of the list occurs; with blank, blank each occurrence. */
static int
any_of(char *s, const char *const *list, size_t n, int blank)
{
	int found = 0;
	char *p;

	for (size_t i = 0; i < n; i++)
		while ((p = find_words(s, list[i])) != NULL) {
			found = 1;
			if (!blank)
				break;
			memset(p, ' ', strlen(list[i]));
		}
	return found;
}

static int
first_word_is(const char *s, const char *const *list, size_t n)
{
	while (*s && !is_word_char(*s))
		s++;
	for (size_t i = 0; i < n; i++) {
		size_t k = strlen(list[i]);
		if (strncmp(s, list[i], k) == 0 && !is_word_char(s[k]))
			return 1;
	}
	return 0;
}

/* The first lines the person wrote, up to HEAD_MAX bytes, folded. */
static void
head_folded(const char *text, char *out, size_t size)
{
	char head[HEAD_MAX + 1];
	size_t n = 0;

	while (*text == '\n' || *text == '\r' || *text == ' ' || *text == '\t')
		text++;
	while (text[n] && n < HEAD_MAX)
		n++;
	while (n > 0 && n < strlen(text) && ((unsigned char)text[n] & 0xC0) == 0x80)
		n--;	/* do not cut a UTF-8 sequence */
	memcpy(head, text, n);
	head[n] = '\0';
	for (char *p = head; *p; p++)
		if (*p == '\n' || *p == '\r' || *p == '\t')
			*p = ' ';
	text_fold(head, out, size);
}

#define N(a) (sizeof (a) / sizeof (a)[0])

const char *
rsvp_from_words(const char *text)
{
	char s[HEAD_MAX * 2 + 1];
	int no, maybe, yes;

	if (text == NULL)
		return NULL;
	head_folded(text, s, sizeof s);
	if (any_of(s, undecided, N(undecided), 0))
		return NULL;
	no = first_word_is(s, first_no, N(first_no)) || any_of(s, declined, N(declined), 1);
	maybe = any_of(s, tentative, N(tentative), 1);
	yes = any_of(s, accepted, N(accepted), 0) ||
	    (!no && !maybe && any_of(s, weak_yes, N(weak_yes), 0)) ||
	    (!no && first_word_is(s, first_yes, N(first_yes)));
	if (no + maybe + yes != 1)
		return NULL;
	return no ? "DECLINED" : maybe ? "TENTATIVE" : "ACCEPTED";
}

#include "buildconf.h"

/*
 * ingest_vote — the steps of ingest that concern membership applications
 * (application.h):
 *
 *  - a valid membership application form, once recorded as a submission,
 *    opens the application and queues the ballots to the deciding body;
 *  - a reply through a ballot's signed address (claim purpose "approve",
 *    "reject" or "vote") is a vote: bad_token() has checked already that
 *    the token is ours, fresh and issued to this sender. The words of the
 *    reply decide; without any, the address does. Votes of non-members and
 *    on decided applications are answered and not counted.
 */

#include <stdio.h>
#include <string.h>

#include "application.h"
#include "ingest_job.h"

static struct application_env
env_of(struct job *j)
{
	return (struct application_env){ .st = j->in->st, .cfg = j->in->cfg, .key = j->in->key,
	    .keylen = j->in->keylen, .actor = j->who.address[0] ? j->who.address : "daemon" };
}

int
ingest_is_vote(const struct job *j)
{
	const char *p = j->claim.purpose;

	return j->has_claim && (strcmp(p, "vote") == 0 || strcmp(p, "approve") == 0 ||
	    strcmp(p, "reject") == 0);
}

int
ingest_application_open(struct job *j, struct err *e)
{
	struct application_env env = env_of(j);
	int64_t id;
	char note[64];

	if (j->form == NULL || strcmp(form_kind(j->form), "adhesion") != 0)
		return 0;
	env.actor = "daemon";
	if ((id = application_open(&env, j->msg_id, j->now, e)) < 0)
		return -1;
	snprintf(note, sizeof note, "application %lld opened", (long long)id);
	job_note(j, note);
	return 0;
}

static const char *
vote_text(const char *vote, const char *lang)
{
	int pt = strcmp(lang, "pt") == 0;

	if (strcmp(vote, "approve") == 0)
		return pt ? "aprovo" : "apruebo";
	return pt ? "rejeito" : "rechazo";
}

/* What the application is, for the answers. */
static int
describe(struct job *j, int64_t id, char *city, size_t csize, char *ref, size_t rsize,
    char *tally, size_t tsize, struct err *e)
{
	sqlite3 *db = store_db(j->in->st);
	sqlite3_stmt *s;
	int rc;

	city[0] = ref[0] = tally[0] = '\0';
	if (sqlite3_prepare_v2(db, "SELECT a.city, coalesce(s.reference, ''),"
	    " (SELECT count(*) FROM votes WHERE application_id = a.id AND vote = 'approve'),"
	    " (SELECT count(*) FROM votes WHERE application_id = a.id AND vote = 'reject')"
	    " FROM applications a JOIN submissions s ON s.id = a.submission_id WHERE a.id = ?1",
	    -1, &s, NULL) != SQLITE_OK)
		return err_set(e, "applications: %s", sqlite3_errmsg(db));
	sqlite3_bind_int64(s, 1, id);
	if ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		str_copy(city, (const char *)sqlite3_column_text(s, 0), csize);
		str_copy(ref, (const char *)sqlite3_column_text(s, 1), rsize);
		snprintf(tally, tsize, strcmp(job_lang(j), "pt") == 0 ? "%d a favor, %d contra" :
		    "%d a favor, %d en contra", sqlite3_column_int(s, 2), sqlite3_column_int(s, 3));
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return err_set(e, "applications: %s", sqlite3_errmsg(db));
	return 0;
}

static int
refused(struct job *j, const char *log_why, const char *es, const char *pt, struct err *e)
{
	job_decide(j, MSG_REJECTED, "vote not counted: %s", log_why);
	job_lang(j);
	struct tvar tv[] = { TV("name", j->who.name), TV("subject", j->m->subject),
	    TV("reason", strcmp(j->lang, "pt") == 0 ? pt : es) };
	return job_answer(j, "vote-refused", tv, 3, e) < 0 ? -1 : 1;
}

int
ingest_vote(struct job *j, struct err *e)
{
	struct application_env env = env_of(j);
	const char *vote;
	char city[128], ref[32], tally[96], state[16] = "";
	int r;

	if (job_read_body(j, e) < 0)
		return -1;
	j->out.body = j->text;
	j->out.kind = "vote";
	vote = application_vote_words(j->text);
	if (vote == NULL && strcmp(j->claim.purpose, "vote") != 0)
		vote = j->claim.purpose;	/* the address says it: "approve", "reject" */
	if (describe(j, j->claim.object, city, sizeof city, ref, sizeof ref, tally,
	    sizeof tally, e) < 0)
		return -1;
	if (vote == NULL || vote[0] == '\0') {
		job_decide(j, MSG_REJECTED, "vote unclear on application %lld",
		    (long long)j->claim.object);
		job_lang(j);
		struct tvar tv[] = { TV("name", j->who.name), TV("city", city),
		    TV("reference", ref), TV("subject", j->m->subject) };
		return job_answer(j, "vote-unclear", tv, 4, e) < 0 ? -1 : 1;
	}
	r = application_vote(&env, j->claim.object, j->claim.contact, vote, j->msg_id, j->now,
	    state, e);
	if (r < 0)
		return -1;
	if (r == APPLICATION_VOTE_UNKNOWN)
		return refused(j, "unknown application", "no encontramos esa solicitud",
		    "não encontramos esse pedido", e);
	if (r == APPLICATION_VOTE_DECIDED)
		return refused(j, "decided already", "la solicitud ya fue decidida",
		    "o pedido já foi decidido", e);
	if (r == APPLICATION_VOTE_NOT_MEMBER)
		return refused(j, "not a member of the deciding body",
		    "solo votan los miembros del órgano que decide",
		    "somente os membros do órgão que decide votam", e);
	if (describe(j, j->claim.object, city, sizeof city, ref, sizeof ref, tally,
	    sizeof tally, e) < 0)
		return -1;
	job_decide(j, MSG_RECORDED, "vote %s on application %lld (now %s)", vote,
	    (long long)j->claim.object, state);
	job_lang(j);
	struct tvar tv[] = { TV("name", j->who.name), TV("city", city), TV("reference", ref),
	    TV("vote", vote_text(vote, j->lang)), TV("tally", tally),
	    TV("subject", j->m->subject) };
	return job_answer(j, "vote-recorded", tv, 6, e) < 0 ? -1 : 1;
}

/*
 * rg-rm: what the stream marks deleted, from storage or through the API.
 *
 * Reads the whole stream first into a plan (common/rmplan.c): the storage
 * and time of its scan, the marked records, and the "refs" record rg-refs
 * ends it with, whose plan digest must match the marks; only then does it
 * act, through the remover of the stream's source, chosen once: the
 * storage's (common/rmstore.c: tags, manifests, layer links, blobs,
 * uploads, each checked again and removed through the trash by
 * common/sweep.c) or the registry API's (common/rmapi.c).  Writes a record
 * per object to stdout, a summary to stderr.  Memory: the marked records
 * (a digest, a name and a few numbers each), the repositories, and the
 * digests linked since the scan.
 */
#include <err.h>
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "remove.h"
#include "store.h"

static struct rg_rmplan plan;
static struct rg_sweep sw;
static struct rg_store *store;		/* chosen once: the stream's storage */
static struct rg_apirm ar;		/* a scan of a URL: through the API */
static struct rg_http_opts http_opts;
static struct rg_remote remote;		/* S3: --endpoint, --config */
static int dry_run, verbose, status, recover, purge;
static long long quarantine;	/* --quarantine, seconds; 0: none */
static long long older_than = -1;	/* --purge-quarantine --older-than */
static unsigned long purged_runs;	/* quarantines ended, removed */
static long long purged_bytes;
static long long lease;		/* --lease, seconds; 0 the default */
char *user_arg;		/* -u's copy, which the credentials split; not static: kept (LeakSanitizer) */
static long long max_age = 3600, min_age = 3600;
static time_t now;
static unsigned long done[RG_NOBJ], kept[RG_NOBJ];
static long long bytes;
static struct rg_rmopts opts;		/* those that depend on the source */
static struct rg_rmconf rc;		/* the registry's config.yml, if known */
static struct rg_rmstore rmo;		/* the storage remover's policy */

/* the audit record of one object */
static void
report(const struct rg_rmitem *it, const char *result, const char *why)
{
	json_t *rec = rg_rmitem_record(&plan, it, result, why);

	if (store != NULL && store->run[0] != '\0')
		json_object_set_new(rec, "run", json_string(store->run));
	if (rg_emit(stdout, rec) != 0)
		_exit(RG_EXIT_FATAL);
	json_decref(rec);
}

/* What a remover did with one object: counted, and its audit record. */
static void
outcome(void *arg, const struct rg_rmitem *it, int r, const char *why)
{
	(void)arg;
	switch (r) {
	case RG_RM_FAILED:
		if (plan.api)
			warnx("%s: %s %s%s%s: %s", ar.url, rg_obj_name[it->kind],
			    RG_RMREPO(&plan, it->repo)->name, it->key ? ":" : "",
			    it->key ? it->key : "", why);
		else
			warnx("%s/%s", sw.root, why);
		status = RG_EXIT_PARTIAL;
		report(it, "failed", why);
		return;
	case RG_RM_KEPT:
		kept[it->kind]++;
		if (verbose)
			warnx("<stdin>:%lu: %s kept: %s", it->line,
			    rg_obj_name[it->kind], why);
		report(it, "kept", why);
		return;
	case RG_RM_GONE:
		report(it, "gone", why);
		return;
	}
	done[it->kind]++;
	if (it->kind == RG_OBJ_BLOB || it->kind == RG_OBJ_UPLOAD)
		bytes = rg_size_add(bytes, it->size);
	report(it, dry_run ? "would-delete" : "deleted", NULL);
}

/* Through the API: tags and manifests; the rest is the storage's to sweep. */
static void
run_api(void)
{
	size_t i;

	if (rg_http_global_init() != 0 ||
	    rg_api_credentials(plan.root, &http_opts) != 0 ||
	    rg_apirm_open(&ar, plan.root, &http_opts, dry_run) != 0)
		errx(RG_EXIT_FATAL, "%s: cannot talk to the registry",
		    rg_url_userinfo(plan.root) ? "the stream's root" : plan.root);
	for (i = 0; i < plan.n; i++)
		if (plan.v[i].valid && plan.v[i].kind != RG_OBJ_TAG &&
		    plan.v[i].kind != RG_OBJ_MANIFEST) {
			report(&plan.v[i], "refused", "not through the API: a "
			    "sweep of the storage deletes it");
			plan.v[i].valid = 0;
			status = RG_EXIT_PARTIAL;
		}
	rg_rmapi_run(&plan, &ar, outcome, NULL);
	rg_apirm_close(&ar);
}

static void
usage(FILE *f, int code)
{
	fprintf(f, "usage: rg-rm [-knv] [--prune] [-c config.yml] [-e endpoint] "
	    "[-j jobs] [-r root]\n"
	    "             [--cacert file] [--lease duration] [--max-age duration]\n"
	    "             [--min-age duration] [--quarantine duration]\n"
	    "             [--stop command --start command]\n"
	    "       rg-rm [-knv] [-u user[:password]] [--cacert file] [--cert file] "
	    "[--key file]\n"
	    "             [--max-age duration] [--password-file file] [--plain-http]\n"
	    "       rg-rm --recover [-c config.yml] [-e endpoint] [--cacert file] "
	    "[--lease duration]\n"
	    "             -r root\n"
	    "       rg-rm --purge-quarantine [--older-than duration] -r root\n");
	exit(code);
}

/* The registry's config.yml: what it caches decides what may go while it runs. */
static void
load_config(void)
{
	char e[1024];

	if (rg_rmconf_load(&rc, &opts, &plan, &sw, &rmo, verbose, e,
	    sizeof(e)) != 0)
		errx(RG_EXIT_FATAL, "%s", e);
}

/* a quarantine that ended (or --older-than), removed: said, and counted */
static void
purged(void *arg, const struct rg_qrun *r)
{
	char t[RG_TIME_STRLEN + 1];

	(void)arg;
	rg_time_format(r->time, t);
	warnx("%s/.rg-trash/quarantine/%s: the quarantine of the run of %s %s: "
	    "%lu objects, %lld bytes freed", sw.root ? sw.root : store->root,
	    r->run, t, older_than >= 0 ? "removed (--older-than)" : "ended",
	    r->objects, (long long)r->bytes);
	purged_runs++;
	purged_bytes = rg_size_add(purged_bytes, r->bytes);
}

static void
open_storage(void)
{
	const char *root = opts.root ? opts.root : plan.root;
	char e[1024];

	if (root == NULL)
		errx(RG_EXIT_FATAL, "no storage root: the stream has no scan record; "
		    "give --root");
	if ((store = rg_regconf_store(opts.config, root, &remote, e,
	    sizeof(e))) == NULL)
		errx(RG_EXIT_FATAL, "%s", *e ? e : "the storage cannot be opened");
	store->lease_ttl = (long)lease;
	if (quarantine > 0 && store->ops->held_open == NULL)
		errx(RG_EXIT_FATAL, "--quarantine: %s: this storage cannot hold "
		    "what rg-rm deletes yet (a filesystem can); nothing deleted",
		    store->root);
	store->quarantine = dry_run ? 0 : quarantine;
	store->purged = purged;
	if (rg_sweep_open(&sw, store, dry_run) != 0) {
		if (sw.why != NULL && (errno == EWOULDBLOCK || errno == EBUSY))
			errx(RG_EXIT_FATAL, "%s/.rg-trash: %s", sw.root, sw.why);
		if (sw.why != NULL)
			err(RG_EXIT_FATAL, "%s/.rg-trash: %s", sw.root, sw.why);
		exit(RG_EXIT_FATAL);
	}
	if (opts.root != NULL && plan.root != NULL &&
	    !store->ops->same(store, plan.root))
		errx(RG_EXIT_FATAL, "--root %s is not the storage the stream was "
		    "scanned from (%s)", opts.root, plan.root);
	sw.scan_time = plan.scan_time;
	sw.min_age = min_age;
	sw.now = now;
	if (sw.recovered > 0) {
		warnx("%s: put back %lu objects a killed run had moved away and not "
		    "yet deleted; a later run deletes them if they are still garbage",
		    sw.root, sw.recovered);
		rmo.hold_cached = "a killed run's objects were put back, which the "
		    "scan did not see: scan again";
	}
	load_config();
	rg_sweep_jobs(&sw, opts.jobs ? opts.jobs : store->rm_threads);
}

/*
 * --recover: the lock or the lease taken, what a killed run left pending
 * put back, nothing else; no stream.  A frequent timer makes the window
 * in which a push racing a killed run on S3 misses what it set aside a
 * matter of minutes, not of the next nightly run.
 */
static int
run_recover(void)
{
	if (opts.root == NULL)
		errx(RG_EXIT_FATAL, "--recover: give the storage, --root");
	if (dry_run || opts.prune || opts.stop != NULL || opts.min_age ||
	    http_opts.user != NULL || opts.jobs != 0)
		errx(RG_EXIT_FATAL, "--recover: puts back what a killed run left; "
		    "it takes --root, --config, --endpoint and --cacert only");
	open_storage();
	rg_sweep_close(&sw);
	rg_store_close(store);
	return RG_EXIT_OK;
}

/*
 * --purge-quarantine: the lock taken, the quarantines that have ended (or,
 * with --older-than, that are older) removed, nothing else; no stream.
 */
static int
run_purge(void)
{
	if (opts.root == NULL)
		errx(RG_EXIT_FATAL, "--purge-quarantine: give the storage, --root");
	if (dry_run || opts.prune || opts.stop != NULL || opts.min_age ||
	    http_opts.user != NULL || opts.jobs != 0 || quarantine > 0)
		errx(RG_EXIT_FATAL, "--purge-quarantine: removes quarantines; it "
		    "takes --root, --older-than, --config, --endpoint and --cacert only");
	open_storage();
	if (older_than >= 0 && store->ops->purge != NULL &&
	    store->ops->purge(store, older_than) == -1)
		err(RG_EXIT_FATAL, "%s/.rg-trash/quarantine", sw.root);
	fprintf(stderr, "rg-rm: %lu quarantined runs removed, %lld bytes freed\n",
	    purged_runs, purged_bytes);
	rg_sweep_close(&sw);
	rg_store_close(store);
	return RG_EXIT_OK;
}

/* each object the plan may not delete: its record */
static void
refused(void *arg, const struct rg_rmitem *it, const char *result,
    const char *why)
{
	(void)arg;
	report(it, result, why);
}

/* Marks other than tags need rg-refs' pass and a fresh scan. */
static void
check_approval(void)
{
	char msg[512];
	unsigned long n;

	if (rg_rmplan_approve(&plan, now, max_age, refused, NULL, &n, msg,
	    sizeof(msg)) != 0)
		errx(RG_EXIT_FATAL, "%s", msg);
	if (n > 0) {
		warnx("%s", msg);
		status = RG_EXIT_PARTIAL;
	}
}

/* options for the other kind of source are usage errors (rmplan.c) */
static void
check_options(void)
{
	char msg[8192];

	if (rg_rmplan_options(&plan, &opts, msg, sizeof(msg)) != NULL)
		errx(RG_EXIT_FATAL, "%s", msg);
	remote.cacert = http_opts.cacert;	/* (S3's endpoint) */
	remote.insecure = http_opts.insecure;
}

static void
run(void)
{
	rmo.prune = opts.prune;
	rmo.dry_run = dry_run;
	rmo.stop_cmd = opts.stop;
	rg_rmstore_run(&plan, &sw, &rmo, outcome, NULL);
	if (rmo.failed)
		status = RG_EXIT_PARTIAL;
}

static void
summary(void)
{
	unsigned long k = 0;
	json_t *rec;
	int i;

	for (i = 0; i < RG_NOBJ; i++)
		k += kept[i];
	rec = rg_rmtotal_record(sw.root ? sw.root : plan.root, dry_run, now,
	    done, bytes, k);
	if (store != NULL && store->run[0] != '\0')
		json_object_set_new(rec, "run", json_string(store->run));
	if (store != NULL && store->quarantine > 0)
		rg_set_time(rec, "quarantine_until", now + (time_t)quarantine);
	if (purged_runs > 0)
		json_object_set_new(rec, "purged_bytes", json_integer(purged_bytes));
	if (rg_emit(stdout, rec) != 0)
		_exit(RG_EXIT_FATAL);
	json_decref(rec);
	fprintf(stderr, "rg-rm: %s: %lu tags, %lu manifests, %lu layer links, "
	    "%lu blobs, %lu uploads (%lld bytes), %lu repositories%s\n",
	    dry_run ? "would delete" : "deleted", done[RG_OBJ_TAG], done[RG_OBJ_MANIFEST],
	    done[RG_OBJ_LAYER], done[RG_OBJ_BLOB], done[RG_OBJ_UPLOAD], bytes, done[RG_OBJ_REPO],
	    dry_run ? " (dry run: nothing changed)" : "");
	if (store != NULL && store->quarantine > 0 && store->run[0] != '\0') {
		char until[RG_TIME_STRLEN + 1];

		rg_time_format(now + (time_t)quarantine, until);
		fprintf(stderr, "rg-rm: run %s: what it deleted is held in "
		    "%s/.rg-trash/quarantine/%s until %s: rg-restore --run %s "
		    "puts it back\n", store->run, sw.root, store->run, until,
		    store->run);
	}
	if (k > 0)
		fprintf(stderr, "rg-rm: kept %lu marked objects the storage shows are "
		    "in use or new since the scan (see \"why\"); run the pipeline "
		    "again later\n", k);
	if (plan.api && done[RG_OBJ_MANIFEST] > 0)
		fprintf(stderr, "rg-rm: through the API the registry only unlinks: "
		    "the space of these manifests' blobs comes back when its storage "
		    "is swept (rg-scan | rg-refs | rg-rm on the storage, or the "
		    "registry's garbage-collect)\n");
	if (rmo.ncached > 0 && rmo.hold_cached == rg_hold_inmemory)
		fprintf(stderr, "rg-rm: kept %lu layer links and blobs: the registry "
		    "(%s) caches blob descriptors in memory, and would go on "
		    "answering that they exist after they were deleted, so the "
		    "next push of an image using one would be broken; give --stop "
		    "and --start to delete them while it is stopped (rg-rm(1))\n",
		    rmo.ncached, rc.conf.path);
	if (!dry_run && !rc.have && !plan.api && (done[RG_OBJ_BLOB] > 0 || done[RG_OBJ_LAYER] > 0))
		fprintf(stderr, "rg-rm: layer links or blobs were deleted, and the "
		    "registry's configuration is not known (--config): if it caches "
		    "blob descriptors in memory, restart it now\n");
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "dry-run", no_argument, NULL, 'n' },
		{ "root", required_argument, NULL, 'r' },
		{ "max-age", required_argument, NULL, 'M' },
		{ "min-age", required_argument, NULL, 'm' },
		{ "prune", no_argument, NULL, 'p' },
		{ "recover", no_argument, NULL, 'R' },
		{ "password-file", required_argument, NULL, 'W' },
		{ "plain-http", no_argument, NULL, 'H' },
		{ "lease", required_argument, NULL, 'L' },
		{ "quarantine", required_argument, NULL, 'Q' },
		{ "purge-quarantine", no_argument, NULL, 'P' },
		{ "older-than", required_argument, NULL, 'O' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "user", required_argument, NULL, 'u' },
		{ "insecure", no_argument, NULL, 'k' },
		{ "cacert", required_argument, NULL, 'C' },
		{ "cert", required_argument, NULL, 'E' },
		{ "key", required_argument, NULL, 'K' },
		{ "config", required_argument, NULL, 'c' },
		{ "endpoint", required_argument, NULL, 'e' },
		{ "jobs", required_argument, NULL, 'j' },
		{ "stop", required_argument, NULL, 'S' },
		{ "start", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	long n;
	int c;

	now = time(NULL);
	rg_secret_guard();
	while ((c = getopt_long(argc, argv, "c:e:hj:knr:u:vV", longopts, NULL)) != -1) {
		if (strchr("uEKWH", c) != NULL && opts.http == NULL)
			opts.http = c == 'u' ? "--user" : c == 'E' ? "--cert" :
			    c == 'W' ? "--password-file" : c == 'H' ?
			    "--plain-http" : "--key";
		if (strchr("kC", c) != NULL && opts.tls == NULL)
			opts.tls = c == 'k' ? "--insecure" : "--cacert";
		switch (c) {
		case 'c':
			opts.config = optarg;
			break;
		case 'e':
			opts.endpoint = remote.endpoint = optarg;
			break;
		case 'j':
			if (rg_count_arg("--jobs", optarg, 1, RG_STORE_JOBS_MAX,
			    &n) != 0)
				return RG_EXIT_FATAL;
			opts.jobs = (int)n;
			break;
		case 'S':
			opts.stop = optarg;
			break;
		case 's':
			rmo.start_cmd = optarg;
			break;
		case 'n':
			dry_run = 1;
			break;
		case 'r':
			opts.root = optarg;
			break;
		case 'M':
			if (rg_duration_arg("--max-age", optarg, &max_age) != 0)
				return RG_EXIT_FATAL;
			break;
		case 'm':
			if (rg_duration_arg("--min-age", optarg, &min_age) != 0)
				return RG_EXIT_FATAL;
			opts.min_age = 1;
			break;
		case 'p':
			opts.prune = 1;
			break;
		case 'R':
			recover = 1;
			break;
		case 'Q':
			if (rg_duration_arg("--quarantine", optarg, &quarantine) != 0)
				return RG_EXIT_FATAL;
			if (quarantine < 1)
				errx(RG_EXIT_FATAL, "--quarantine: %s: a second at least",
				    optarg);
			break;
		case 'P':
			purge = 1;
			break;
		case 'O':
			if (rg_duration_arg("--older-than", optarg, &older_than) != 0)
				return RG_EXIT_FATAL;
			break;
		case 'v':
			verbose = 1;
			break;
		case 'u':
			http_opts.user = user_arg = rg_secret_arg(optarg);	/* (wiped in argv) */
			break;
		case 'H':
			http_opts.plain_http = 1;
			break;
		case 'L':
			if (rg_duration_arg("--lease", optarg, &lease) != 0)
				return RG_EXIT_FATAL;
			if (lease < 5 || lease > 86400)
				errx(RG_EXIT_FATAL, "--lease: %s: from 5s to 24h", optarg);
			break;
		case 'W':
			free((char *)http_opts.password);
			if ((http_opts.password = rg_secret_read(optarg)) == NULL)
				return RG_EXIT_FATAL;
			break;
		case 'k':
			http_opts.insecure = 1;
			break;
		case 'C':
			http_opts.cacert = optarg;
			break;
		case 'E':
			http_opts.cert = optarg;
			break;
		case 'K':
			http_opts.key = optarg;
			break;
		case 'h':
			usage(stdout, RG_EXIT_OK);
			break;
		case 'V':
			return rg_version_print("rg-rm");
		default:
			usage(stderr, RG_EXIT_FATAL);
		}
	}
	if (optind != argc)
		usage(stderr, RG_EXIT_FATAL);
	if ((opts.stop == NULL) != (rmo.start_cmd == NULL))
		errx(RG_EXIT_FATAL, "--stop and --start go together: the registry "
		    "stopped is started again");
	if (rg_rmplan_init(&plan) != 0)
		err(RG_EXIT_FATAL, NULL);
	if (older_than >= 0 && !purge)
		errx(RG_EXIT_FATAL, "--older-than goes with --purge-quarantine");
	if (recover && purge)
		errx(RG_EXIT_FATAL, "--recover and --purge-quarantine: one at a time");
	if (recover)
		return run_recover();
	if (purge)
		return run_purge();

	/* the audit log: each record out as soon as its object is gone */
	if (!dry_run)
		setvbuf(stdout, NULL, _IOLBF, 0);
	if (rg_rmplan_read(&plan, STDIN_FILENO, "<stdin>") != 0)
		_exit(RG_EXIT_FATAL);
	if (plan.invalid)
		status = RG_EXIT_PARTIAL;
	check_approval();
	check_options();
	if (plan.api && plan.n > 0)
		run_api();
	else if (!plan.api && (plan.n > 0 || opts.prune || plan.root != NULL)) {
		/* (with nothing marked: what a killed run left is seen to) */
		open_storage();
		run();
		rg_sweep_close(&sw);
	}
	summary();
	rg_store_close(store);		/* (sw.root is the store's) */
	if (sw.redis != NULL)
		rg_redis_close(&rc.redis);
	rg_regconf_free(&rc.conf);
	if (rg_stdout_close() != 0)
		return RG_EXIT_FATAL;
	return status;
}

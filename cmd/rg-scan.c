/*
 * rg-scan: the inventory of a registry, as records on stdout.
 *
 * The records (rg-records(5)) are of its storage (common/storescan.c), or
 * of a URL through its HTTP API (common/apiscan.c).  Both hand whole
 * records to one writer, from more than one thread; it writes them under a
 * lock, so lines never interleave.
 *
 * Memory: see the two scans.  The storage scan holds one repository at a
 * time, a fixed-size config cache and one blob directory's names; the API
 * scan, the names of all repositories, and per thread one repository and a
 * config cache.
 */
#include <err.h>
#include <getopt.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "http.h"
#include "regconf.h"
#include "s3.h"
#include "store.h"

static const char *repo_pattern;
static struct rg_regex *repo_re;
static pthread_mutex_t out_lock = PTHREAD_MUTEX_INITIALIZER;

static struct rg_api_opts api = { .jobs = 4, .page = 1000 };
char *user_arg;		/* -u's copy, which the credentials split; not static: kept (LeakSanitizer) */

static void
usage(FILE *f, int status)
{
	fprintf(f, "usage: rg-scan [-r regex] [root]\n"
	    "       rg-scan [-r regex] -c config.yml\n"
	    "       rg-scan [-k] [-e endpoint] [-j jobs] [-r regex] [--cacert file]\n"
	    "               s3://bucket[/rootdir]\n"
	    "       rg-scan [-k] [-j jobs] [-r regex] [-u user[:password]] [--cacert file]\n"
	    "               [--cert file --key file] [--page-size n]\n"
	    "               [--password-file file | --password-stdin] [--plain-http] url\n");
	exit(status);
}

/* A buffer of whole records, from either scan's threads, to stdout. */
static void
write_records(void *arg, struct rg_buf *b)
{
	(void)arg;
	if (b->len == 0)
		return;
	pthread_mutex_lock(&out_lock);
	if (rg_buf_write(b, stdout) == -1) {
		warn("stdout");
		_exit(RG_EXIT_FATAL);	/* the other threads must not go on */
	}
	pthread_mutex_unlock(&out_lock);
}

/* rg-scan URL: the HTTP API */
static int
scan_api(const char *url)
{
	int st;

	api.url = url;
	api.filter = repo_re;
	api.write = write_records;
	api.progress = isatty(STDERR_FILENO);
	st = rg_api_scan(&api, repo_pattern);
	if (rg_stdout_close() != 0)
		return RG_EXIT_FATAL;
	return st;
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "repo", required_argument, NULL, 'r' },
		{ "jobs", required_argument, NULL, 'j' },
		{ "user", required_argument, NULL, 'u' },
		{ "insecure", no_argument, NULL, 'k' },
		{ "cacert", required_argument, NULL, 'C' },
		{ "cert", required_argument, NULL, 'E' },
		{ "key", required_argument, NULL, 'K' },
		{ "page-size", required_argument, NULL, 'P' },
		{ "password-file", required_argument, NULL, 'W' },
		{ "password-stdin", no_argument, NULL, 'I' },
		{ "plain-http", no_argument, NULL, 'H' },
		{ "config", required_argument, NULL, 'c' },
		{ "endpoint", required_argument, NULL, 'e' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	char cerr[512];
	const char *config = NULL, *api_only = NULL, *url_only = NULL;
	struct rg_regconf conf;
	struct rg_store_opts so = { 0 };
	struct rg_remote remote = { 0 };
	int jobs = 0;
	const char *root = NULL;
	int c, st;
	long n;

	rg_secret_guard();
	while ((c = getopt_long(argc, argv, "c:e:j:kr:u:hV", longopts, NULL)) != -1) {
		if (strchr("uEKPWIH", c) != NULL && url_only == NULL)
			url_only = c == 'u' ? "--user" : c == 'E' ? "--cert" :
			    c == 'K' ? "--key" : c == 'W' ? "--password-file" :
			    c == 'I' ? "--password-stdin" : c == 'H' ?
			    "--plain-http" : "--page-size";
		if (strchr("jkuCEKPWIH", c) != NULL && api_only == NULL)
			api_only = c == 'j' ? "--jobs" : c == 'k' ? "--insecure" :
			    c == 'u' ? "--user" : c == 'C' ? "--cacert" :
			    c == 'E' ? "--cert" : c == 'K' ? "--key" :
			    c == 'W' ? "--password-file" : c == 'I' ?
			    "--password-stdin" : c == 'H' ? "--plain-http" :
			    "--page-size";
		switch (c) {
		case 'c':
			config = optarg;
			break;
		case 'e':
			remote.endpoint = optarg;
			break;
		case 'j':
		case 'P':
			if (rg_count_arg(c == 'j' ? "--jobs" : "--page-size", optarg,
			    1, c == 'j' ? RG_STORE_JOBS_MAX : 1000, &n) != 0)
				return RG_EXIT_FATAL;
			*(c == 'j' ? &api.jobs : &api.page) = (int)n;
			if (c == 'j')
				jobs = (int)n;
			break;
		case 'u':
			api.http.user = user_arg = rg_secret_arg(optarg);	/* (wiped in argv) */
			break;
		case 'H':
			api.http.plain_http = 1;
			break;
		case 'W':
		case 'I':
			free((char *)api.http.password);
			if ((api.http.password = rg_secret_read(c == 'I' ? "-" :
			    optarg)) == NULL)
				return RG_EXIT_FATAL;
			break;
		case 'k':
			api.http.insecure = 1;
			break;
		case 'C':
			api.http.cacert = optarg;
			break;
		case 'E':
			api.http.cert = optarg;
			break;
		case 'K':
			api.http.key = optarg;
			break;
		case 'r':
			repo_pattern = optarg;
			if ((repo_re = rg_regex_new("--repo", optarg)) == NULL)
				return RG_EXIT_FATAL;
			break;
		case 'V':
			return rg_version_print("rg-scan");
		case 'h':
			usage(stdout, RG_EXIT_OK);
			break;
		default:
			usage(stderr, RG_EXIT_FATAL);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc > 1)
		usage(stderr, RG_EXIT_FATAL);
	if (api.http.password != NULL && api.http.user == NULL &&
	    getenv("RG_USER") == NULL)
		errx(RG_EXIT_FATAL, "%s: whose password: give the user with -u or "
		    "RG_USER", url_only);
	if (argc == 1 && (strncmp(argv[0], "http://", 7) == 0 ||
	    strncmp(argv[0], "https://", 8) == 0)) {
		if (config != NULL)
			errx(RG_EXIT_FATAL, "--config: a scan of %s goes through its "
			    "API, not its storage", argv[0]);
		return scan_api(argv[0]);
	}
	if (config != NULL) {	/* the storage of the registry's own config.yml */
		if (argc == 1)
			errx(RG_EXIT_FATAL, "%s and --config %s: one storage, named "
			    "once", argv[0], config);
		if (rg_regconf_load(config, &conf, cerr, sizeof(cerr)) != 0)
			;	/* cerr says why */
		else if (conf.driver != NULL && strcmp(conf.driver, "s3") == 0)
			root = rg_regconf_s3(&conf, &remote, cerr, sizeof(cerr));
		else if (conf.driver == NULL || strcmp(conf.driver, "filesystem") != 0)
			rg_msg(cerr, sizeof(cerr), "storage driver %s: rg-scan reads "
			    "filesystem or s3 storage, or a registry through its URL",
			    conf.driver ? conf.driver : "not named");
		else if (conf.rootdirectory == NULL)
			rg_msg(cerr, sizeof(cerr), "no storage.filesystem.rootdirectory");
		else {
			cerr[0] = '\0';
			root = conf.rootdirectory;	/* freed after the scan */
		}
		if (cerr[0] != '\0') {
			rg_regconf_free(&conf);
			errx(RG_EXIT_FATAL, "%s: %s", config, cerr);
		}
	} else
		root = argc == 1 ? argv[0] : getenv("REGISTRY_DATA_DIR");
	/* the options of the source there is, and no other */
	if (root != NULL && strncmp(root, "s3://", 5) == 0) {
		if (url_only != NULL)
			errx(RG_EXIT_FATAL, "%s: applies to a scan of a registry's "
			    "URL, not of S3", url_only);
		remote.cacert = api.http.cacert;
		remote.insecure = api.http.insecure;
		so.jobs = jobs ? jobs : RG_S3_JOBS;
	} else if (api_only != NULL)
		errx(RG_EXIT_FATAL, "%s: applies to a scan of a registry's URL, "
		    "not of its storage", api_only);
	else if (remote.endpoint != NULL)
		errx(RG_EXIT_FATAL, "--endpoint: applies to a scan of S3 "
		    "(s3://bucket)");
	if (root == NULL || *root == '\0')
		root = "/var/lib/registry";
	so.store = rg_store_open(root, &remote);
	if (config != NULL && so.store == NULL)
		rg_regconf_free(&conf);
	if (so.store == NULL)
		return RG_EXIT_FATAL;	/* reported; nothing written */
	so.repo_pattern = repo_pattern;
	so.filter = repo_re;
	so.write = write_records;
	st = rg_store_scan(&so);
	rg_store_close(so.store);
	if (config != NULL)
		rg_regconf_free(&conf);
	if (rg_stdout_close() != 0)
		return RG_EXIT_FATAL;
	return st;
}

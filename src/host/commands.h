/* commands.h - entry points of the tfaas subcommands. argv[0] is the
 * subcommand's own name ("serve", "admin", "action", "activation").
 * Each returns the process exit status. */
#ifndef TFAAS_HOST_COMMANDS_H
#define TFAAS_HOST_COMMANDS_H
int serve_main(int argc, char **argv); /* serve.c */
int admin_main(int argc, char **argv); /* admin.c */
int cli_main(int argc, char **argv);   /* cli.c: action, activation, package, trigger, rule */
int attest_main(int argc, char **argv); /* cli_attest.c: attest */
int receipt_main(int argc, char **argv); /* cli_confidential.c: receipt verify */
int evidence_main(int argc, char **argv); /* cli_evidence.c: evidence verify */
int runtime_main(int argc, char **argv); /* runtime/runtime_cmd.c: OpenWhisk action runtime */
#endif

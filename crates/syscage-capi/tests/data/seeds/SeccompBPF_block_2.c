#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <errno.h>
#include <seccomp.h>

static int install_filter ( int nr, int error )
{
scmp_filter_ctx ctx;
int rc;

ctx = seccomp_init( SCMP_ACT_ALLOW );
if ( ctx == NULL )
{
perror( "seccomp_init(SCMP_ACT_ALLOW)" );
return -1;
}

rc = seccomp_rule_add( ctx, SCMP_ACT_ERRNO(error), nr, 0 );
if ( rc < 0 )
{
perror( "seccomp_rule_add(SCMP_ACT_ERRNO)" );
seccomp_release( ctx );
return -1;
}

rc = seccomp_load( ctx );
if ( rc < 0 )
{
perror( "seccomp_load" );
seccomp_release( ctx );
return -1;
}

seccomp_release( ctx );
return 0;
}

/* The article's listing stops after install_filter ("}..."); this main is
 * syscage's completion, as the article describes the program: block one
 * syscall number with an errno, then run a command. */
int main ( int argc, char * argv[] )
{
if ( argc < 4 )
{
fprintf( stderr, "Usage: %s <syscall_nr> <errno> <command> [args...]\n", argv[0] );
return -1;
}
if ( install_filter( atoi( argv[1] ), atoi( argv[2] ) ) )
{
fprintf( stderr, "Failed to install syscall filter\n" );
return -1;
}
execvp( argv[3], &argv[3] );
perror( "execvp" );
return -1;
}

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <errno.h>
#include <seccomp.h>

static int install_filter ( void )
{
scmp_filter_ctx ctx;
int rc;

ctx = seccomp_init( SCMP_ACT_LOG );
if ( ctx == NULL )
{
perror( "seccomp_init(SCMP_ACT_LOG)" );
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

int main ( int argc, char * argv[] )
{
if ( argc < 2 )
{
fprintf( stderr, "Usage: %s <command> [args...]\n", argv[0] );
return -1;
}
if ( install_filter() )
{
fprintf( stderr, "Failed to install syscall filter\n" );
return -1;
}
execvp( argv[1], &argv[1] );
perror( "execvp" );
return -1;
}

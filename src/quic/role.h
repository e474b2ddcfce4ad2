/* Which end of a connection an endpoint, or the sender of a message, is. */
#ifndef SKIFF_QUIC_ROLE_H
#define SKIFF_QUIC_ROLE_H

typedef enum skiff_role {
    SKIFF_ROLE_CLIENT,
    SKIFF_ROLE_SERVER,
} skiff_role;

#endif

/* WireGuard keys as `wg genkey`, `wg pubkey` and `wg genpsk` make them:
 * byte for byte the same, so that either tool reads the other's keys. */
#ifndef MOAT_WG_KEY_H
#define MOAT_WG_KEY_H

#include <stdbool.h>
#include <stdint.h>

#include "wg/wg.h"

/* A fresh Curve25519 private key, clamped as `wg genkey` prints it. */
void wg_genkey(uint8_t priv[WG_KEY_LEN]);
/* The public key of priv (clamped first, as wg does); false on failure. */
bool wg_pubkey(const uint8_t priv[WG_KEY_LEN], uint8_t pub[WG_KEY_LEN]);
/* A fresh preshared key: 32 random bytes. */
void wg_genpsk(uint8_t psk[WG_KEY_LEN]);

#endif

/* WireGuard keys: generation and the public half. Pure apart from the
 * randomness; callers wipe what they keep. */
#include <sodium.h>

#include "base/util.h"
#include "wg/key.h"

/* libsodium initialises itself once; without it randombytes may block or
 * fail on some platforms, which a key generator cannot afford. */
static void key_init(void)
{
	if (sodium_init() < 0)
		fatal("libsodium: initialisation failed");
}

void wg_genkey(uint8_t priv[WG_KEY_LEN])
{
	key_init();
	randombytes_buf(priv, WG_KEY_LEN);
	/* the clamp of RFC 7748, which `wg genkey` applies before printing */
	priv[0] &= 248;
	priv[31] &= 127;
	priv[31] |= 64;
}

bool wg_pubkey(const uint8_t priv[WG_KEY_LEN], uint8_t pub[WG_KEY_LEN])
{
	key_init();
	/* clamps a copy of priv itself, so unclamped keys give what wg gives */
	return crypto_scalarmult_curve25519_base(pub, priv) == 0;
}

void wg_genpsk(uint8_t psk[WG_KEY_LEN])
{
	key_init();
	randombytes_buf(psk, WG_KEY_LEN);
}

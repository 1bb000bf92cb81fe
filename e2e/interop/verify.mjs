// Usage: node verify.mjs <jwks url> <issuer> <audience> <token>
// Prints the verified claims as JSON, or exits 1 with the reason.
import { createRemoteJWKSet, jwtVerify } from "jose";

const [jwksURL, issuer, audience, token] = process.argv.slice(2);
try {
  const jwks = createRemoteJWKSet(new URL(jwksURL));
  const { payload, protectedHeader } = await jwtVerify(token, jwks, {
    issuer,
    audience,
    typ: "at+jwt",
    algorithms: ["EdDSA", "ES256", "RS256"],
  });
  console.log(JSON.stringify({ header: protectedHeader, claims: payload }));
} catch (err) {
  console.error(`refused: ${err.code ?? err.name}: ${err.message}`);
  process.exit(1);
}

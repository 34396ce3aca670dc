// `rapport dkim keygen`: makes a DKIM key pair and prints the DNS record to publish.
//
// RunDkimKeygen generates an RSA-2048 ("rsa", "rsa-sha256") or Ed25519 ("ed25519",
// "ed25519-sha256") private key, writes it as PKCS#8 PEM to `out_key_file` with mode 0600
// (refusing to overwrite an existing file), and prints to `out` the zone-file line
//   selector._domainkey.domain. IN TXT "v=DKIM1; k=rsa; p=..." "..."
// (the value split in strings of at most 255 characters) followed by the [[dkim]] config
// block that uses the key. Returns the process exit code: 0 on success, 2 for bad arguments,
// 1 when the key cannot be generated or written (the message goes to `err`). The private key
// is never printed.
#pragma once

#include <cstdio>
#include <string>

namespace rapport {

int RunDkimKeygen(const std::string& domain, const std::string& selector, const std::string& algorithm,
                  const std::string& out_key_file, std::FILE* out = stdout, std::FILE* err = stderr);

}  // namespace rapport

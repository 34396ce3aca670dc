// The DKIM keys of every signing domain, and signing by the sender's domain: what `rapport
// serve` loads from its [[dkim]] entries, and what the tests and benchmarks use the same way.
//
// Keys are grouped by domain (lower-cased); each domain gets one DkimSigner over all its keys
// (dual signing: an RSA and an Ed25519 key under two selectors). Sign(domain, ...) signs with
// the keys of `domain`, or of its nearest parent domain that has keys (bounces.example.com uses
// example.com's keys), and returns the message unchanged when no domain up the chain has keys.
//
// Failure: Load() fails with kInvalid (field "key_file") as LoadDkimKey does, and Add()/Load()
// with kConflict (field "selector") for a domain and selector already in the ring. Key material
// is never put in an error message. Thread-safety: build (Add, Load) on one thread; after that
// every const member may be called from any number of threads at once.
#pragma once

#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/error.h"
#include "mail/dkim.h"

namespace rapport::mail {

// One key as configured: where its PEM file is and what it signs for.
struct DkimKeyFile {
  std::string domain;
  std::string selector;
  std::string key_file;
  DkimAlgorithm algorithm = DkimAlgorithm::kRsaSha256;
};

class DkimKeyring {
 public:
  // A ring with every key of `files` loaded (the first failure fails it all).
  static Result<DkimKeyring> FromFiles(std::span<const DkimKeyFile> files);

  Status Add(DkimKey key);
  Status Load(const DkimKeyFile& file);

  bool empty() const { return signers_.empty(); }
  // The signer of `domain` or of its nearest parent with keys; null when there is none.
  const DkimSigner* SignerFor(std::string_view domain) const;
  // `message` with the DKIM-Signature headers of SignerFor(domain) before it; unchanged without keys.
  Result<std::string> Sign(std::string_view domain, std::string_view message, Timestamp now) const;
  // "selector._domainkey.domain" of every key, for logs.
  std::vector<std::string> Selectors() const;

 private:
  std::map<std::string, std::vector<DkimKey>, std::less<>> keys_;
  std::map<std::string, std::shared_ptr<const DkimSigner>, std::less<>> signers_;
};

}  // namespace rapport::mail

// Benchmarks of the mail hot path: building a MIME message and DKIM signing it.
// Run with bench/mail/run (builds with -O2 and prints Google Benchmark's table).
#include <benchmark/benchmark.h>

#include <string>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "mail/dkim.h"
#include "mail/header.h"
#include "mail/mime_writer.h"

using namespace rapport;
using namespace rapport::mail;

namespace {

// A newsletter-like body of about `bytes` octets: mostly ASCII with some accented words,
// HTML twice the size of the text.
MimeMessage Newsletter(size_t bytes) {
  MimeMessage m;
  m.from = {"Café Müller", {"news", "example.com"}};
  m.reply_to = Mailbox{"Support", {"support", "example.com"}};
  m.to = {{"Ada Lovelace", {"ada.lovelace", "example.org"}}};
  m.subject = "Nouveautés de la semaine: 20% sur les cafés d'Éthiopie";
  m.date = FromMicros(1795428907LL * 1000000);
  m.message_class = MessageClass::kMarketing;
  m.list_unsubscribe_url = "https://mail.example.com/u/eyJjIjo0MiwibSI6MTIzNDU2fQ.sig";
  m.list_unsubscribe_mailto = "mailto:unsubscribe+123456@example.com";
  m.list_id = "weekly.example.com";
  m.list_name = "Weekly news";
  m.feedback_id = "c42:weekly:marketing:rapport";
  const std::string para =
      "Bonjour Ada, voici les nouveautés de la semaine: un café d'Éthiopie aux notes de "
      "jasmin, une remise de 20% et un atelier de dégustation samedi prochain.\n";
  while (m.text.size() < bytes / 3) m.text += para;
  while (m.html.size() < bytes * 2 / 3)
    m.html += "<p style=\"margin:0 0 12px;font-family:Arial\">" + para + "</p>\n";
  return m;
}

MimeMessage AsciiReceipt() {
  MimeMessage m = Newsletter(0);
  m.message_class = MessageClass::kTransactional;
  m.subject = "Your receipt #123456";
  m.text.clear();
  m.html.clear();
  while (m.text.size() < 1700) m.text += "Item: Ethiopian coffee 250g   qty 2   EUR 18.00\n";
  while (m.html.size() < 3300) m.html += "<tr><td>Ethiopian coffee 250g</td><td>2</td></tr>\n";
  return m;
}

void BuildLoop(benchmark::State& state, const MimeMessage& m) {
  size_t bytes = 0;
  for (auto _ : state) {
    auto r = BuildMime(m);
    benchmark::DoNotOptimize(r);
    bytes = r->size();
  }
  state.counters["msg_bytes"] = static_cast<double>(bytes);
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * bytes));
}

void BM_BuildMime_5KB_qp(benchmark::State& state) { BuildLoop(state, Newsletter(5 * 1024)); }
void BM_BuildMime_50KB_qp(benchmark::State& state) { BuildLoop(state, Newsletter(50 * 1024)); }
void BM_BuildMime_5KB_7bit(benchmark::State& state) { BuildLoop(state, AsciiReceipt()); }
void BM_BuildMime_5KB_base64(benchmark::State& state) {
  MimeMessage m = Newsletter(0);
  while (m.text.size() < 1700) m.text += "ご注文の商品を発送しました。";
  while (m.html.size() < 3400) m.html += "<p>ご注文の商品を発送しました。</p>";
  BuildLoop(state, m);
}

void BM_EncodeSubject(benchmark::State& state) {
  std::string out;
  for (auto _ : state) {
    out.clear();
    auto s =
        AppendUnstructuredHeader(out, "Subject", "Nouveautés de la semaine: 20% sur les cafés d'Éthiopie");
    benchmark::DoNotOptimize(s);
  }
}

const std::string& RsaPem() {
  static const std::string pem = *GenerateDkimKeyPem(DkimAlgorithm::kRsaSha256);
  return pem;
}

const DkimKey& Key(DkimAlgorithm a) {
  static const DkimKey rsa = *DkimKeyFromPem("example.com", "rsa", RsaPem(), DkimAlgorithm::kRsaSha256);
  static const DkimKey ed = *DkimKeyFromPem(
      "example.com", "ed", *GenerateDkimKeyPem(DkimAlgorithm::kEd25519Sha256), DkimAlgorithm::kEd25519Sha256);
  return a == DkimAlgorithm::kRsaSha256 ? rsa : ed;
}

void SignLoop(benchmark::State& state, std::vector<DkimKey> keys, size_t bytes) {
  const std::string msg = *BuildMime(Newsletter(bytes));
  DkimSigner signer(std::move(keys));
  for (auto _ : state) {
    auto r = signer.SignatureHeaders(msg, FromMicros(1795428907LL * 1000000));
    benchmark::DoNotOptimize(r);
  }
  state.counters["signs/s"] =
      benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}

void BM_DkimSign_Rsa2048_5KB(benchmark::State& s) { SignLoop(s, {Key(DkimAlgorithm::kRsaSha256)}, 5120); }
void BM_DkimSign_Ed25519_5KB(benchmark::State& s) { SignLoop(s, {Key(DkimAlgorithm::kEd25519Sha256)}, 5120); }
void BM_DkimSign_Dual_5KB(benchmark::State& s) {
  SignLoop(s, {Key(DkimAlgorithm::kRsaSha256), Key(DkimAlgorithm::kEd25519Sha256)}, 5120);
}
void BM_DkimSign_Ed25519_50KB(benchmark::State& s) {
  SignLoop(s, {Key(DkimAlgorithm::kEd25519Sha256)}, 50 * 1024);
}

// The bare RSA signature of a SHA-256 digest with the same key, set up once as `openssl speed`
// does: what DKIM signing adds on top (hashing, canonicalization, the header) is the difference.
void BM_RsaSign_Bare(benchmark::State& state) {
  BIO* bio = BIO_new_mem_buf(RsaPem().data(), static_cast<int>(RsaPem().size()));
  EVP_PKEY* key = PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new(key, nullptr);
  if (ctx == nullptr || EVP_PKEY_sign_init(ctx) != 1 ||
      EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) != 1 ||
      EVP_PKEY_CTX_set_signature_md(ctx, EVP_sha256()) != 1) {
    state.SkipWithError("cannot set up the RSA signing context");
  }
  unsigned char digest[32] = {1, 2, 3};
  unsigned char sig[512];
  for (auto _ : state) {
    size_t len = sizeof(sig);
    if (EVP_PKEY_sign(ctx, sig, &len, digest, sizeof(digest)) != 1)
      state.SkipWithError("EVP_PKEY_sign failed");
    benchmark::DoNotOptimize(sig);
  }
  state.counters["signs/s"] =
      benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
  EVP_PKEY_CTX_free(ctx);
  EVP_PKEY_free(key);
}

}  // namespace

BENCHMARK(BM_BuildMime_5KB_qp);
BENCHMARK(BM_BuildMime_5KB_7bit);
BENCHMARK(BM_BuildMime_5KB_base64);
BENCHMARK(BM_BuildMime_50KB_qp);
BENCHMARK(BM_EncodeSubject);
BENCHMARK(BM_RsaSign_Bare);
BENCHMARK(BM_DkimSign_Rsa2048_5KB);
BENCHMARK(BM_DkimSign_Ed25519_5KB);
BENCHMARK(BM_DkimSign_Dual_5KB);
BENCHMARK(BM_DkimSign_Ed25519_50KB);
BENCHMARK_MAIN();

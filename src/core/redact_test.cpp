#include "core/redact.h"

#include <gtest/gtest.h>

namespace rapport {
namespace {

TEST(RedactUrl, MasksThePasswordAndSecretParameters) {
  EXPECT_EQ(RedactUrl("postgres://app:s3cret@db:5432/rapport"), "postgres://app:***@db:5432/rapport");
  EXPECT_EQ(RedactUrl("postgresql://app:s3cret@db/x?sslmode=require&password=p4ss"),
            "postgresql://app:***@db/x?sslmode=require&password=***");
  EXPECT_EQ(RedactUrl("smtp://alice:hunter2@relay.example.com:587?tls=required"),
            "smtp://alice:***@relay.example.com:587?tls=required");
  EXPECT_EQ(RedactUrl("smtps://us%40er:p%3Ass@relay"), "smtps://us%40er:***@relay");
  // Unencoded '@', '?' and '/' in the password: everything before the last '@' is userinfo.
  EXPECT_EQ(RedactUrl("smtp://alice:hun@ter?2/x@relay"), "smtp://alice:***@relay");
  EXPECT_EQ(RedactUrl("https://ghp_token123@example.com/x"), "https://***@example.com/x");
  EXPECT_EQ(RedactUrl("host=db user=app password=s3cret dbname=x"), "host=db user=app password=*** dbname=x");
  EXPECT_EQ(RedactUrl("host=db password = 'a b\\' c' dbname=x"), "host=db password = *** dbname=x");
  EXPECT_EQ(RedactUrl("http://h/?Token=abc&x=1"), "http://h/?Token=***&x=1");
}

TEST(RedactUrl, LeavesUrlsWithoutSecretsAlone) {
  for (std::string_view url :
       {"smtp://relay.example.com:25", "maildir:./var/outbox", "sqlite:/var/lib/rapport.db",
        "/var/lib/rapport.db", "postgres://db/rapport?sslmode=require", ""})
    EXPECT_EQ(RedactUrl(url), url);
}

TEST(RedactSecrets, MasksWhatALibraryQuotes) {
  const std::string url = "postgres://app:s3cr%40t@[::1";
  // libpq quotes the whole URI in its parse errors.
  std::string libpq =
      "cannot connect to PostgreSQL: end of string reached when looking for matching \"]\" in "
      "IPv6 host address in URI: \"" +
      url + "\"";
  std::string out = RedactSecrets(libpq, url);
  EXPECT_EQ(out.find("s3cr"), std::string::npos) << out;
  EXPECT_NE(out.find("postgres://app:***@[::1"), std::string::npos) << out;
  // Or a piece of it, decoded.
  EXPECT_EQ(RedactSecrets("password authentication failed: s3cr@t", url),
            "password authentication failed: ***");
  EXPECT_EQ(RedactSecrets("bad value hunter2&x", "smtp://alice:hunter2&x@relay"), "bad value ***");
  EXPECT_EQ(RedactSecrets("invalid sslmode", "postgres://db/x?password=zz9top&sslmode=bad"),
            "invalid sslmode");
  EXPECT_EQ(RedactSecrets("got zz9top", "host=db password=zz9top"), "got ***");
  EXPECT_EQ(RedactSecrets("nothing secret here", "smtp://relay:25"), "nothing secret here");
}

}  // namespace
}  // namespace rapport

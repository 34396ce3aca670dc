#include "app/campaigns_command.h"

#include <fmt/format.h>

#include <iostream>
#include <memory>

#include "app/app_context.h"
#include "app/senders_command.h"
#include "campaign/campaign_model.h"
#include "campaign/campaign_service.h"
#include "core/json_parse.h"
#include "send/send_service.h"

namespace rapport::app {

namespace {

namespace json = boost::json;

struct CampaignsOptions {
  CommonOptions common;
  std::string workspace;
  std::string campaign;
  bool json = false;
};

Result<Campaign> Find(Store& store, WorkspaceId ws, const std::string& name_or_id) {
  if (!name_or_id.empty() && name_or_id.size() < 18 &&
      name_or_id.find_first_not_of("0123456789") == std::string::npos)
    return store.campaigns().Get(ws, std::stoll(name_or_id));
  return store.campaigns().GetByName(ws, name_or_id);
}

Status List(const CampaignsOptions& o) {
  RAPPORT_ASSIGN_OR_RETURN(Config config, LoadAppConfig(o.common));
  RAPPORT_ASSIGN_OR_RETURN(std::unique_ptr<Store> store, OpenAndMigrateStore(config));
  RAPPORT_ASSIGN_OR_RETURN(Workspace ws, ResolveWorkspace(*store, o.workspace, /*create_default=*/false));
  RAPPORT_ASSIGN_OR_RETURN(std::vector<Campaign> list, store->campaigns().List(ws.id));
  std::cout << fmt::format("{:>6}  {:<28} {:<10} {:>11}  {}\n", "ID", "NAME", "STATE", "OCCURRENCES",
                           "UPDATED");
  for (const Campaign& c : list) {
    RAPPORT_ASSIGN_OR_RETURN(auto occs, store->campaigns().ListOccurrences(ws.id, c.id));
    std::cout << fmt::format("{:>6}  {:<28} {:<10} {:>11}  {}\n", c.id, EscapeForTerminal(c.name),
                             CampaignStateName(c.state), occs.size(), FormatTimestamp(c.updated_at));
  }
  return {};
}

Status Send(const CampaignsOptions& o) {
  RAPPORT_ASSIGN_OR_RETURN(Config config, LoadAppConfig(o.common));
  RAPPORT_ASSIGN_OR_RETURN(std::unique_ptr<Store> store, OpenAndMigrateStore(config));
  RAPPORT_ASSIGN_OR_RETURN(Workspace ws, ResolveWorkspace(*store, o.workspace, /*create_default=*/false));
  RAPPORT_ASSIGN_OR_RETURN(Campaign c, Find(*store, ws.id, o.campaign));
  // The sender check `serve` makes when a campaign is scheduled through the API (the send
  // service's rule; this command builds no send service): a sender that would be refused for
  // marketing mail is refused now, not at every batch.
  json::value doc;
  try {
    doc = ParseJsonExact(c.definition);
  } catch (const std::exception& e) {
    return Error::Internal(fmt::format("campaign {}: stored settings do not parse: {}", c.id, e.what()));
  }
  RAPPORT_ASSIGN_OR_RETURN(campaign::CampaignDef def, campaign::ParseCampaign(doc));
  auto sender = send::ChosenSender(store->senders(), DkimDomains(config), ws.id, def.sender_id,
                                   MessageClass::kMarketing);
  if (!sender.ok()) {
    Error e = sender.error();
    if (e.code == ErrorCode::kInvalid) e.field = "sender_id";
    return e;
  }
  campaign::CampaignService service(*store, SystemClock::Instance(), {});
  RAPPORT_ASSIGN_OR_RETURN(c, service.Schedule(ws.id, c.id));
  std::cout << fmt::format("campaign {} '{}' is {}: a running `rapport serve` sends it on its schedule\n",
                           c.id, EscapeForTerminal(c.name), CampaignStateName(c.state));
  return {};
}

double Num(const json::value& v) {
  return v.is_double() ? v.get_double() : v.is_int64() ? static_cast<double>(v.get_int64()) : 0;
}

void PrintGroup(std::string_view name, const json::object& g) {
  std::cout << fmt::format("  {:<14} {:>9} {:>8} {:>9} {:>8} {:>8} {:>8} {:>11} {:>10.2f} {:>7} {:>7}\n",
                           EscapeForTerminal(name), Num(g.at("recipients")), Num(g.at("sent")),
                           Num(g.at("delivered")), Num(g.at("opens_human")), Num(g.at("opens_machine")),
                           Num(g.at("clicks_human")), Num(g.at("conversions")), Num(g.at("revenue")),
                           Num(g.at("unsubscribes")), Num(g.at("complaints")));
}

Status Report(const CampaignsOptions& o) {
  RAPPORT_ASSIGN_OR_RETURN(Config config, LoadAppConfig(o.common));
  RAPPORT_ASSIGN_OR_RETURN(std::unique_ptr<Store> store, OpenAndMigrateStore(config));
  RAPPORT_ASSIGN_OR_RETURN(Workspace ws, ResolveWorkspace(*store, o.workspace, /*create_default=*/false));
  RAPPORT_ASSIGN_OR_RETURN(Campaign c, Find(*store, ws.id, o.campaign));
  campaign::CampaignServiceOptions options;
  options.goal_event = config.analytics.goal_event;
  options.revenue_property = config.analytics.revenue_property;
  campaign::CampaignService service(*store, SystemClock::Instance(), {}, options);
  RAPPORT_ASSIGN_OR_RETURN(json::object report, service.Report(ws.id, c.id));
  if (o.json) {
    std::cout << json::serialize(report) << "\n";
    return {};
  }
  std::cout << fmt::format("campaign {} '{}' ({})\n", c.id, EscapeForTerminal(c.name),
                           CampaignStateName(c.state));
  for (const json::value& ov : report.at("occurrences").as_array()) {
    const json::object& occ = ov.as_object();
    std::cout << fmt::format("\noccurrence {} at {} ({}), {} recipients\n", Num(occ.at("seq")),
                             EscapeForTerminal(std::string(occ.at("scheduled_at").as_string())),
                             EscapeForTerminal(std::string(occ.at("state").as_string())),
                             Num(occ.at("recipients")));
    std::cout << fmt::format("  {:<14} {:>9} {:>8} {:>9} {:>8} {:>8} {:>8} {:>11} {:>10} {:>7} {:>7}\n",
                             "GROUP", "RECIPIENTS", "SENT", "DELIVERED", "OPENS", "MACHINE", "CLICKS",
                             "CONVERSIONS", "REVENUE", "UNSUBS", "COMPL.");
    for (const json::value& v : occ.at("variants").as_array())
      PrintGroup("variant " + std::string(v.as_object().at("name").as_string()), v.as_object());
    PrintGroup("rest", occ.at("rest").as_object());
    PrintGroup("holdout", occ.at("holdout").as_object());
    if (const json::value* e = occ.if_contains("experiment"); e && e->is_object()) {
      std::cout << "  experiment: P(best)";
      for (const auto& kv : e->as_object().at("probability_best").as_object())
        std::cout << fmt::format(" {}={:.3f}", EscapeForTerminal(std::string(kv.key())), Num(kv.value()));
      std::cout << fmt::format(
          "; SRM p={:.4f}{}\n  {}\n", Num(e->as_object().at("srm_p_value")),
          e->as_object().at("srm_warning").as_bool() ? " (WARNING: sample-ratio mismatch)" : "",
          EscapeForTerminal(std::string(e->as_object().at("reason").as_string())));
    }
    if (const json::value* l = occ.if_contains("lift"); l && l->is_object()) {
      const json::object& conv = l->as_object().at("conversion").as_object();
      const json::object& rev = l->as_object().at("revenue_per_recipient").as_object();
      std::cout << fmt::format(
          "  lift vs holdout: conversion {:+.4f} (95% {:+.4f} .. {:+.4f}), revenue/recipient {:+.2f} (95% "
          "{:+.2f} .. "
          "{:+.2f})\n",
          Num(conv.at("absolute")), Num(conv.at("low")), Num(conv.at("high")), Num(rev.at("absolute")),
          Num(rev.at("low")), Num(rev.at("high")));
    }
  }
  return {};
}

void Add(CLI::App* cmd, const std::shared_ptr<CampaignsOptions>& options) {
  cmd->add_option("--workspace", options->workspace, "workspace name (default: \"default\")");
  AddCommonOptions(*cmd, options->common);
  AddDatabaseOption(*cmd, options->common);
}

}  // namespace

void RegisterCampaignsCommand(CLI::App& root, int& exit_code) {
  auto options = std::make_shared<CampaignsOptions>();
  CLI::App* campaigns = root.add_subcommand("campaigns", "Campaigns: list, send (schedule), report");
  campaigns->require_subcommand(1);
  CLI::App* list = campaigns->add_subcommand("list", "List the campaigns");
  Add(list, options);
  list->callback([options, &exit_code] {
    Status s = List(*options);
    exit_code = s.ok() ? 0 : PrintError(s.error());
  });
  CLI::App* send = campaigns->add_subcommand("send", "Schedule a draft campaign (sent by `rapport serve`)");
  send->add_option("CAMPAIGN", options->campaign, "the campaign's id or name")->required();
  Add(send, options);
  send->callback([options, &exit_code] {
    Status s = Send(*options);
    exit_code = s.ok() ? 0 : PrintError(s.error());
  });
  CLI::App* report =
      campaigns->add_subcommand("report", "A campaign's report per occurrence, variant and holdout");
  report->add_option("CAMPAIGN", options->campaign, "the campaign's id or name")->required();
  report->add_flag("--json", options->json,
                   "print the report as JSON (as GET /api/v1/campaigns/{id}/report)");
  Add(report, options);
  report->callback([options, &exit_code] {
    Status s = Report(*options);
    exit_code = s.ok() ? 0 : PrintError(s.error());
  });
}

}  // namespace rapport::app

// Derives a readable text/plain part from an HTML part, for templates that give none.
//
// Drops <head>, <style>, <script> and comments; turns block elements into line breaks,
// <li> into "- " items, <a href="u">label</a> into "label (u)" when the label is not the URL,
// <br> into a newline and <hr> into a rule; decodes the common entities and numeric ones;
// collapses runs of spaces and of blank lines. Pure; thread-safe.
#pragma once

#include <string>
#include <string_view>

namespace rapport::compose {

std::string HtmlToText(std::string_view html);

}  // namespace rapport::compose

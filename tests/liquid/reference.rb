#!/usr/bin/ruby
# The reference renderer for rapport's Liquid case files: Shopify Liquid as implemented by
# Debian's ruby-liquid 5.4, in strict parse mode, rendering with render! (errors raise).
#
#   ruby reference.rb run < cases.json     # [{name, template, data, strict, snippets}] ->
#                                          # {name: {"output": s} | {"error": msg}} on stdout
#   ruby reference.rb fill FILE.liquid...  # writes expect/error sections from the reference
#                                          # for every case without an `extension` section
#
# Times are rendered in UTC (TZ=UTC is forced), rapport's default time zone.
ENV['TZ'] = 'UTC'
require 'json'
require 'liquid'

class SnippetFS
  def initialize(snippets)
    @snippets = snippets || {}
  end

  def read_template_file(name)
    raise Liquid::FileSystemError, "No such template '#{name}'" unless @snippets.key?(name)
    @snippets[name]
  end
end

def render_case(c)
  Liquid::Template.file_system = SnippetFS.new(c['snippets'])
  strict = c['strict'] ? true : false
  tpl = Liquid::Template.parse(c['template'], error_mode: :strict, line_numbers: true)
  out = tpl.render!(c['data'] || {}, strict_variables: strict, strict_filters: strict)
  { 'output' => out }
rescue Liquid::Error, StandardError, SystemStackError => e
  { 'error' => "#{e.class}: #{e.message}" }
end

# ---- case files ----------------------------------------------------------------------------
def parse_case_file(path)
  cases = []
  cur = nil
  section = nil
  all = File.read(path).split("\n", -1)
  all.pop if all.last == ''
  all.each do |line|
    if line.start_with?('=== ')
      cur = { 'name' => line[4..].strip, 'sections' => {}, 'order' => [] }
      cases << cur
      section = nil
    elsif line.start_with?('--- ') && cur
      section = line[4..].strip
      cur['sections'][section] = []
      cur['order'] << section
    elsif cur && section
      cur['sections'][section] << line
    end
  end
  cases.each do |c|
    c['sections'].each_key do |k|
      lines = c['sections'][k]
      lines.pop while !lines.empty? && lines.last.empty? && k != 'expect' && k != 'template'
      c['sections'][k] = lines.join("\n")
    end
    # A trailing blank separator line before the next case is not content.
    %w[expect template].each do |k|
      c['sections'][k] = c['sections'][k].sub(/\n\z/, '') if c['sections'][k]
    end
  end
  cases
end

def case_input(c)
  s = c['sections']
  template = s.key?('template-json') ? JSON.parse(s['template-json']) : s['template']
  {
    'name' => c['name'],
    'template' => template,
    'data' => s['data'] && !s['data'].strip.empty? ? JSON.parse(s['data']) : {},
    'strict' => (s['mode'] || '').strip == 'strict',
    'snippets' => s['snippets'] ? JSON.parse(s['snippets']) : {},
  }
end

def serialize(c)
  out = +"=== #{c['name']}\n"
  c['order'].each do |k|
    next unless c['sections'].key?(k)
    out << "--- #{k}\n"
    out << c['sections'][k] << "\n"
  end
  out << "\n"
end

def plain_ok?(s)
  !s.end_with?("\n") && !s.include?("\r") && s.split("\n", -1).none? { |l| l.start_with?('=== ', '--- ') } &&
    s.valid_encoding?
end

if ARGV[0] == 'run'
  cases = JSON.parse($stdin.read)
  results = {}
  cases.each { |c| results[c['name']] = render_case(c) }
  puts JSON.generate(results)
elsif ARGV[0] == 'fill'
  ARGV[1..].each do |path|
    cases = parse_case_file(path)
    cases.each do |c|
      next if c['sections'].key?('extension')
      r = render_case(case_input(c))
      %w[expect expect-json error].each do |k|
        c['sections'].delete(k)
        c['order'].delete(k)
      end
      if r.key?('output')
        if plain_ok?(r['output'])
          c['sections']['expect'] = r['output']
          c['order'] << 'expect'
        else
          c['sections']['expect-json'] = JSON.generate(r['output'])
          c['order'] << 'expect-json'
        end
      else
        c['sections']['error'] = ''
        c['order'] << 'error'
      end
    end
    File.write(path, cases.map { |c| serialize(c) }.join)
  end
else
  warn 'usage: reference.rb run < cases.json | reference.rb fill FILE...'
  exit 2
end

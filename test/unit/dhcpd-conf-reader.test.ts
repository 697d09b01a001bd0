// The dhcpd.conf reader (src/admin/dhcpd-conf-reader.ts): its grammar, includes, and problems with exact
// positions, on in-memory files; then the two fixtures of test/fixtures/dhcpd-conf, which both pass ISC
// dhcpd 4.4.3's own check (`cd test/fixtures/dhcpd-conf && dhcpd -t -cf seed-primary.conf`, and the same
// for site.conf; dhcpd opens a relative include from the directory it runs in).
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import {
  type ConfStatement,
  type ConfToken,
  keyword,
  positionText,
  readDhcpdConf,
  startsWithWords,
  statementText,
  tokenText,
  walkStatements,
} from '../../src/admin/dhcpd-conf-reader';
import { repoRoot } from '../fixtures/config/helpers';

/** A readFile over in-memory files; a missing one fails as fs does. */
function memoryFiles(files: Record<string, string>): (file: string) => string {
  return (file) => {
    const text = files[file];
    if (text === undefined) throw Object.assign(new Error(`ENOENT: ${file}`), { code: 'ENOENT' });
    return text;
  };
}

/** Reads `text` as the file "d.conf" (plus `others`). */
function read(text: string, others: Record<string, string> = {}) {
  return readDhcpdConf('d.conf', { readFile: memoryFiles({ 'd.conf': text, ...others }) });
}

/** Reads `text` and asserts it has no problems. */
function readClean(text: string): ConfStatement[] {
  const conf = read(text);
  assert.deepEqual(conf.problems, []);
  return conf.statements;
}

/** `x`, asserted present (an index past the end fails the test here). */
function need<T>(x: T | undefined): T {
  assert.ok(x !== undefined);
  return x;
}
/** A token as "kind:text". */
const kt = (t: ConfToken): string => `${t.kind}:${t.text}`;
/** A statement's words as written. */
const words = (s: ConfStatement | undefined): string[] => (s ? s.words.map(tokenText) : []);
/** Each statement as its words joined, a block as nested arrays: a compact picture of a tree. */
function shape(statements: readonly ConfStatement[]): unknown[] {
  return statements.map((s) => (s.block ? [words(s).join(' '), shape(s.block)] : words(s).join(' ')));
}
/** Problems as "file:line:column message". */
const problems = (conf: ReturnType<typeof read>): string[] => conf.problems.map((p) => `${positionText(p)} ${p.message}`);

describe('dhcpd.conf reader: tokens', () => {
  test('comments run to the end of the line, outside strings only', () => {
    const statements = readClean(
      ['# heading', 'default-lease-time 600; # trailing', '  option domain-name "a # b";#glued', '#last'].join('\n'),
    );
    assert.deepEqual(shape(statements), ['default-lease-time 600', 'option domain-name "a # b"']);
    assert.equal(statements[1]?.words[2]?.text, 'a # b');
    assert.equal(positionText(need(statements[1])), 'd.conf:3:3');
  });

  test('strings decode every escape of dhcpd', () => {
    const [s] = readClean('option x "q\\"\\\\ n\\n t\\t r\\r b\\b x\\x41\\x7e o\\101\\000 z\\q\\9";');
    const value = s?.words[2];
    assert.equal(value?.kind, 'string');
    assert.equal(value?.text, 'q"\\ n\n t\t r\r b\b xA~ oA\u0000 zq9');
    assert.equal(tokenText(need(value)), '"q\\"\\\\ n\\n t\\t r\\r b\\x08 xA~ oA\\x00 zq9"', 'written back with escapes');
  });

  test('a string may span lines; the tokens after it keep their positions', () => {
    const [s, t] = readClean('option x "one\ntwo" ;\n  max-lease-time 9;');
    assert.equal(s?.words[2]?.text, 'one\ntwo');
    assert.equal(positionText(need(t)), 'd.conf:3:3');
  });

  test('words, numbers, addresses, hex lists, dotted names, dates and operators', () => {
    const [a, b, c, d, e] = readClean(
      [
        'hardware ethernet 00:1b:A9:12:34:56;',
        'hardware ethernet 0:1:2:3:4:5;',
        'option agent.circuit-id -1 10.0.0.1,10.0.0.2;',
        'if a != b and c ~= "x" or d ~~ "y" and e = 2 - 1 { }',
        'my state partner-down at 4 2024/01/31 12:00:00;',
      ].join('\n'),
    );
    assert.deepEqual(a?.words.map(kt), ['word:hardware', 'word:ethernet', 'word:00:1b:A9:12:34:56']);
    assert.deepEqual(b?.words.map(kt), ['word:hardware', 'word:ethernet', 'word:0:1:2:3:4:5']);
    assert.deepEqual(c?.words.map(kt), [
      'word:option',
      'word:agent.circuit-id',
      'number:-1',
      'word:10.0.0.1',
      'punct:,',
      'word:10.0.0.2',
    ]);
    assert.deepEqual(
      d?.words.map((t) => t.text),
      ['if', 'a', '!=', 'b', 'and', 'c', '~=', 'x', 'or', 'd', '~~', 'y', 'and', 'e', '=', '2', '-', '1'],
    );
    assert.deepEqual(d?.block, []);
    assert.deepEqual(
      e?.words.map((t) => t.text),
      ['my', 'state', 'partner-down', 'at', '4', '2024/01/31', '12:00:00'],
    );
    assert.deepEqual(
      e?.words.map((t) => t.column),
      [1, 4, 10, 23, 26, 28, 39],
    );
  });

  test('positions are line and column of each first character, tabs counting one', () => {
    const [s] = readClean('\n\tfixed-address  10.1.2.3 ;');
    assert.deepEqual(
      s?.words.map((t) => `${t.line}:${t.column}`),
      ['2:2', '2:17'],
    );
    assert.equal(s?.file, 'd.conf');
  });
});

describe('dhcpd.conf reader: statements and blocks', () => {
  test('shared-network > subnet > pool, and group > host, nest with their positions', () => {
    const text = [
      'shared-network "building-a" {',
      '  subnet 10.0.1.0 netmask 255.255.255.0 {',
      '    option routers 10.0.1.1;',
      '    pool { range 10.0.1.10 10.0.1.20; deny unknown-clients; }',
      '  }',
      '  subnet 10.0.2.0 netmask 255.255.255.0 { range 10.0.2.10 10.0.2.20; }',
      '}',
      'group {',
      '  filename "pxelinux.0";',
      '  host a { hardware ethernet 0:1:2:3:4:5; fixed-address 10.0.1.5; }',
      '}',
    ].join('\n');
    const statements = readClean(text);
    assert.deepEqual(shape(statements), [
      [
        'shared-network "building-a"',
        [
          [
            'subnet 10.0.1.0 netmask 255.255.255.0',
            ['option routers 10.0.1.1', ['pool', ['range 10.0.1.10 10.0.1.20', 'deny unknown-clients']]],
          ],
          ['subnet 10.0.2.0 netmask 255.255.255.0', ['range 10.0.2.10 10.0.2.20']],
        ],
      ],
      ['group', ['filename "pxelinux.0"', ['host a', ['hardware ethernet 0:1:2:3:4:5', 'fixed-address 10.0.1.5']]]],
    ]);
    const pool = statements[0]?.block?.[0]?.block?.[1];
    assert.equal(positionText(need(pool)), 'd.conf:4:5');
    assert.equal(positionText(need(pool?.block?.[1])), 'd.conf:4:39');
  });

  test('every block header keeps all its words', () => {
    const text = [
      'subnet 10.0.0.0 netmask 255.255.255.0 { }',
      'shared-network office { }',
      'pool { }',
      'host printer-1 { }',
      'group { }',
      'class "pxe" { }',
      'subclass "by-port" "ge-0/0/1.0" { }',
      'subclass "by-port" 1:2:3;',
      'failover peer "dhcp_fail" { }',
      'failover peer "dhcp_fail" state { }',
      'key DHCP_UPDATER { }',
      'zone example.org. { }',
      'on commit { }',
      'on commit or release or expiry { }',
      'on expiry;',
    ].join('\n');
    const statements = readClean(text);
    assert.deepEqual(
      statements.map((s) => [s.line, words(s).join(' '), s.block ? 'block' : ';']),
      [
        [1, 'subnet 10.0.0.0 netmask 255.255.255.0', 'block'],
        [2, 'shared-network office', 'block'],
        [3, 'pool', 'block'],
        [4, 'host printer-1', 'block'],
        [5, 'group', 'block'],
        [6, 'class "pxe"', 'block'],
        [7, 'subclass "by-port" "ge-0/0/1.0"', 'block'],
        [8, 'subclass "by-port" 1:2:3', ';'],
        [9, 'failover peer "dhcp_fail"', 'block'],
        [10, 'failover peer "dhcp_fail" state', 'block'],
        [11, 'key DHCP_UPDATER', 'block'],
        [12, 'zone example.org.', 'block'],
        [13, 'on commit', 'block'],
        [14, 'on commit or release or expiry', 'block'],
        [15, 'on expiry', ';'],
      ],
    );
  });

  test('if, elsif, else if and else are sibling blocks in order', () => {
    const text = [
      'if option user-class = "iPXE" { filename "boot.ipxe"; }',
      'elsif exists vendor-class-identifier { filename "a"; }',
      'else if not known { filename "b"; }',
      'else { filename "c"; }',
    ].join('\n');
    assert.deepEqual(shape(readClean(text)), [
      ['if option user-class = "iPXE"', ['filename "boot.ipxe"']],
      ['elsif exists vendor-class-identifier', ['filename "a"']],
      ['else if not known', ['filename "b"']],
      ['else', ['filename "c"']],
    ]);
    assert.deepEqual(problems(read('group { }\nelse { }')), ['d.conf:2:1 "else" without an "if" block before it']);
  });

  test('option declarations keep their types as words, a record type in braces included', () => {
    const statements = readClean(
      [
        'option space ipxe;',
        'option rfc3442-classless-static-routes code 121 = array of unsigned integer 8;',
        'option wpad code 252 = text;',
        'option voip code 160 = { ip-address, unsigned integer 16, string };',
        'option pairs code 161 = array of { ip-address, ip-address };',
        'option ipxe-encap-opts code 175 = encapsulate ipxe;',
        'option ipxe.no-pxedhcp code 176 = unsigned integer 8;',
        'option wpad "http://wpad/wpad.dat";',
      ].join('\n'),
    );
    assert.deepEqual(
      statements.map((s) => s.words.map((t) => t.text).join(' ')),
      [
        'option space ipxe',
        'option rfc3442-classless-static-routes code 121 = array of unsigned integer 8',
        'option wpad code 252 = text',
        'option voip code 160 = { ip-address , unsigned integer 16 , string }',
        'option pairs code 161 = array of { ip-address , ip-address }',
        'option ipxe-encap-opts code 175 = encapsulate ipxe',
        'option ipxe.no-pxedhcp code 176 = unsigned integer 8',
        'option wpad http://wpad/wpad.dat',
      ],
    );
    assert.ok(statements.every((s) => s.block === undefined));
    assert.deepEqual(problems(read('option v code 160 = { ip-address, string;\n')), [
      "d.conf:1:21 expected '}' to close the record type opened here",
    ]);
  });

  test('class, match and subclass expressions survive as token lists', () => {
    const [pxe, byPort, sub, prl] = readClean(
      [
        'class "pxe" {',
        '  match if substring(option vendor-class-identifier, 0, 9) = "PXEClient";',
        '  set name = pick-first-value(option host-name, concat("h-", binary-to-ascii(16, 8, ":", hardware)));',
        '}',
        'class "by-port" { match option agent.circuit-id; }',
        'subclass "by-port" "ge-0/0/1.0" { option host-name "phone"; }',
        'option dhcp-parameter-request-list = concat(option dhcp-parameter-request-list, fc);',
      ].join('\n'),
    );
    assert.deepEqual(pxe?.block?.[0]?.words.map(kt), [
      'word:match',
      'word:if',
      'word:substring',
      'punct:(',
      'word:option',
      'word:vendor-class-identifier',
      'punct:,',
      'number:0',
      'punct:,',
      'number:9',
      'punct:)',
      'punct:=',
      'string:PXEClient',
    ]);
    assert.equal(
      statementText(need(pxe?.block?.[1])),
      'set name = pick-first-value(option host-name, concat("h-", binary-to-ascii(16, 8, ":", hardware)));',
    );
    assert.deepEqual(words(byPort?.block?.[0]), ['match', 'option', 'agent.circuit-id']);
    assert.deepEqual(words(sub), ['subclass', '"by-port"', '"ge-0/0/1.0"']);
    assert.equal(
      statementText(need(prl)),
      'option dhcp-parameter-request-list = concat(option dhcp-parameter-request-list, fc);',
    );
  });

  test('failover peer, its state block, and on commit', () => {
    const [peer, state, commit] = readClean(
      [
        'failover peer "f" {',
        '  primary; address 10.0.0.1; port 519; peer address 10.0.0.2; peer port 519;',
        '  max-response-delay 60; max-unacked-updates 10; mclt 3600; split 128; load balance max seconds 3;',
        '}',
        'failover peer "f" state { my state partner-down; peer state normal at 2 2024/01/31 12:00:00; }',
        'on commit { set ip = binary-to-ascii(10, 8, ".", leased-address); log(info, ip); }',
      ].join('\n'),
    );
    assert.ok(peer && startsWithWords(peer, 'failover', 'peer') && !startsWithWords(peer, 'failover', 'peer', 'state'));
    assert.deepEqual(
      peer.block?.map((s) => words(s).join(' ')),
      [
        'primary',
        'address 10.0.0.1',
        'port 519',
        'peer address 10.0.0.2',
        'peer port 519',
        'max-response-delay 60',
        'max-unacked-updates 10',
        'mclt 3600',
        'split 128',
        'load balance max seconds 3',
      ],
    );
    assert.deepEqual(words(state).slice(3), ['state']);
    assert.deepEqual(shape(state?.block ?? []), ['my state partner-down', 'peer state normal at 2 2024/01/31 12:00:00']);
    assert.deepEqual(shape(commit?.block ?? []), [
      'set ip = binary-to-ascii ( 10 , 8 , "." , leased-address )',
      'log ( info , ip )',
    ]);
  });

  test("a key's base64 secret is one word, and only a key block may be followed by ';' (as in dhcpd)", () => {
    const conf = read(
      ['key k {', '  algorithm hmac-md5;', '  secret pRP5F+pFo/95JE', '    L06sv4PQ==;', '};', 'group { };'].join('\n'),
    );
    assert.deepEqual(words(conf.statements[0]?.block?.[1]), ['secret', 'pRP5F+pFo/95JEL06sv4PQ==']);
    assert.deepEqual(problems(conf), [
      `d.conf:6:10 unexpected ';' after the '}' of "group": dhcpd allows it only after a key block`,
    ]);
    assert.deepEqual(words(readClean('key k { secret "YWJj"; }')[0]?.block?.[0]), ['secret', '"YWJj"']);
  });

  test('switch: case and default labels end at their colon', () => {
    const [sw] = readClean(
      [
        'switch (option pxe-system-type) {',
        '  case 00:07: filename "ipxe.efi";',
        '  case 0: filename "undionly.kpxe";',
        '  default: filename "x";',
        '}',
      ].join('\n'),
    );
    assert.deepEqual(shape(sw?.block ?? []), [
      'case 00:07',
      'filename "ipxe.efi"',
      'case 0',
      'filename "undionly.kpxe"',
      'default',
      'filename "x"',
    ]);
  });
});

describe('dhcpd.conf reader: include', () => {
  test('a relative name is read from the including file’s directory, in place, keeping its own positions', () => {
    const conf = readDhcpdConf('/etc/dhcp/dhcpd.conf', {
      readFile: memoryFiles({
        '/etc/dhcp/dhcpd.conf':
          'authoritative;\nsubnet 10.0.0.0 netmask 255.0.0.0 {\n  include "sub/pools.conf";\n}\nddns-updates off;',
        '/etc/dhcp/sub/pools.conf': '# pools\n\n  pool { include "range.conf"; }\n',
        '/etc/dhcp/sub/range.conf': 'range 10.0.0.5 10.0.0.9;',
      }),
    });
    assert.deepEqual(conf.problems, []);
    assert.deepEqual(shape(conf.statements), [
      'authoritative',
      ['subnet 10.0.0.0 netmask 255.0.0.0', [['pool', ['range 10.0.0.5 10.0.0.9']]]],
      'ddns-updates off',
    ]);
    const pool = need(conf.statements[1]?.block?.[0]);
    assert.equal(positionText(pool), '/etc/dhcp/sub/pools.conf:3:3');
    assert.equal(positionText(need(pool.block?.[0])), '/etc/dhcp/sub/range.conf:1:1');
    assert.equal(positionText(need(pool.block?.[0]?.words[2])), '/etc/dhcp/sub/range.conf:1:16');
    assert.equal(positionText(need(conf.statements[2])), '/etc/dhcp/dhcpd.conf:5:1');
    assert.deepEqual(conf.files, ['/etc/dhcp/dhcpd.conf', '/etc/dhcp/sub/pools.conf', '/etc/dhcp/sub/range.conf']);
  });

  test('an absolute name is read as written', () => {
    const conf = readDhcpdConf('/a/main.conf', {
      readFile: memoryFiles({ '/a/main.conf': 'include "/etc/dhcpd.master";', '/etc/dhcpd.master': 'not authoritative;' }),
    });
    assert.deepEqual(problems(conf), []);
    assert.equal(positionText(need(conf.statements[0])), '/etc/dhcpd.master:1:1');
  });

  test('an include cycle is reported at the include that closes it, and reading goes on', () => {
    const conf = read('include "b.conf";\nauthoritative;', {
      'b.conf': 'one-lease-per-client true;\n include "d.conf";',
    });
    assert.deepEqual(problems(conf), [
      `b.conf:2:2 include cycle: "d.conf" is already being read (${path.resolve('d.conf')} → ${path.resolve('b.conf')} → ${path.resolve('d.conf')})`,
    ]);
    assert.deepEqual(shape(conf.statements), ['one-lease-per-client true', 'authoritative']);
  });

  test('a missing file is reported at its include', () => {
    const conf = read('authoritative;\n  group { include "gone.conf"; }');
    assert.deepEqual(problems(conf), ['d.conf:2:11 cannot read the included file "gone.conf" (gone.conf): ENOENT']);
    assert.deepEqual(shape(conf.statements), ['authoritative', ['group', []]]);
    assert.deepEqual(problems(read('include gone.conf;')), [
      'd.conf:1:1 expected include "FILE"; (a file name in double quotes), found "include gone.conf;"',
    ]);
    assert.deepEqual(readDhcpdConf('nowhere.conf', { readFile: memoryFiles({}) }).problems, [
      { file: 'nowhere.conf', line: 0, column: 0, message: 'cannot read the file: ENOENT' },
    ]);
  });

  test('a block must close in its own file, as in dhcpd', () => {
    const conf = read('group {\n  include "half.conf";\n}', { 'half.conf': 'pool {\n  range 10.0.0.1 10.0.0.2;\n' });
    assert.deepEqual(problems(conf), [`half.conf:1:6 '{' of "pool" is not closed: expected '}' before the end of the file`]);
    assert.deepEqual(shape(conf.statements), [['group', [['pool', ['range 10.0.0.1 10.0.0.2']]]]]);
  });
});

describe('dhcpd.conf reader: problems, with what was expected where', () => {
  test('an unterminated string is reported at its quote, once', () => {
    const conf = read('authoritative;\nsubnet 10.0.0.0 netmask 255.0.0.0 {\n  option domain-name "lab;\n}\n');
    assert.deepEqual(problems(conf), [`d.conf:3:22 unterminated string: expected a closing '"' before the end of the file`]);
    // What was read is kept: the statement holds the string up to the end of the file.
    assert.deepEqual(shape(conf.statements), [
      'authoritative',
      ['subnet 10.0.0.0 netmask 255.0.0.0', ['option domain-name "lab;\\n}\\n"']],
    ]);
  });

  test("a missing ';' at the end of the file is reported where it belongs, the statement kept", () => {
    const conf = read('authoritative;\ndefault-lease-time\n  600   \n\n');
    assert.deepEqual(problems(conf), [`d.conf:3:6 expected ';' after "default-lease-time 600", found the end of the file`]);
    assert.deepEqual(shape(conf.statements), ['authoritative', 'default-lease-time 600']);
  });

  test("a missing ';' before '}'", () => {
    const conf = read('group {\n  filename "a" }');
    assert.deepEqual(problems(conf), [`d.conf:2:15 expected ';' after "filename "a"", found '}'`]);
    assert.deepEqual(shape(conf.statements), [['group', ['filename "a"']]]);
  });

  test("a stray '}' is reported and skipped", () => {
    const conf = read('group { }\n  }\nauthoritative;');
    assert.deepEqual(problems(conf), [`d.conf:2:3 '}' without a matching '{'`]);
    assert.deepEqual(shape(conf.statements), [['group', []], 'authoritative']);
  });

  test("an unclosed '{' is reported at the brace, for each block left open", () => {
    const conf = read('shared-network x {\n  subnet 10.0.0.0 netmask 255.0.0.0 {\n    pool { }\n');
    assert.deepEqual(problems(conf), [
      `d.conf:2:37 '{' of "subnet 10.0.0.0 netmask 255.0.0.0" is not closed: expected '}' before the end of the file`,
      `d.conf:1:18 '{' of "shared-network x" is not closed: expected '}' before the end of the file`,
    ]);
    assert.deepEqual(shape(conf.statements), [['shared-network x', [['subnet 10.0.0.0 netmask 255.0.0.0', [['pool', []]]]]]]);
  });

  test('bad escapes, an empty statement and a headless block', () => {
    const conf = read('option a "\\x4g\\18";\n;\n{ authoritative; }');
    assert.deepEqual(problems(conf), [
      'd.conf:1:11 bad escape "\\x4g" in string: \\x needs two hexadecimal digits',
      'd.conf:1:15 bad escape "\\18" in string: \\NNN needs three octal digits',
      "d.conf:2:1 expected a statement before ';'",
      `d.conf:3:1 expected the header of a block (such as "group") before '{'`,
    ]);
    assert.equal(conf.statements[0]?.words[2]?.text, 'g8');
    assert.deepEqual(shape(conf.statements), ['option a "g8"', ['', ['authoritative']]]);
  });
});

describe('dhcpd.conf reader: helpers', () => {
  test('keyword, statementText and walkStatements', () => {
    const statements = readClean('Subnet 10.0.0.0 netmask 255.0.0.0 { pool { range 10.0.0.1 10.0.0.9; } }\nGROUP { }');
    assert.deepEqual(statements.map(keyword), ['subnet', 'group']);
    assert.equal(statementText(need(statements[0])), 'Subnet 10.0.0.0 netmask 255.0.0.0 { … }');
    assert.equal(statementText(need(statements[1])), 'GROUP { }');
    const seen: string[] = [];
    walkStatements(statements, (s, enclosing) => seen.push(`${enclosing.map(keyword).join('>')}/${keyword(s)}`));
    assert.deepEqual(seen, ['/subnet', 'subnet/pool', 'subnet>pool/range', '/group']);
  });
});

describe('dhcpd.conf reader: fixtures', () => {
  const dir = path.join(repoRoot(), 'test', 'fixtures', 'dhcpd-conf');

  test("the seed's failover primary and its included dhcpd.master", () => {
    const conf = readDhcpdConf(path.join(dir, 'seed-primary.conf'));
    assert.deepEqual(conf.problems, []);
    assert.deepEqual(
      conf.files.map((f) => path.basename(f)),
      ['seed-primary.conf', 'seed-dhcpd.master'],
    );
    assert.deepEqual(shape(conf.statements), [
      'default-lease-time 30000',
      'max-lease-time 60000',
      'ddns-update-style interim',
      [
        'failover peer "dhcp_fail"',
        [
          'primary',
          'address 192.168.168.8',
          'port 519',
          'peer address 192.168.168.9',
          'peer port 519',
          'max-response-delay 60',
          'max-unacked-updates 10',
          'mclt 3660',
          'split 128',
          'load balance max seconds 3',
        ],
      ],
      [
        'subnet 192.168.168.0 netmask 255.255.255.0',
        [
          'allow client-updates',
          [
            'pool',
            [
              'failover peer "dhcp_fail"',
              'deny dynamic bootp clients',
              'option domain-name "mon_domain"',
              'option domain-name-servers 192.168.168.8 , 192.168.168.9',
              'option netbios-name-servers 192.168.168.10 , 168.18.168.11',
              'option netbios-node-type 8',
              'option subnet-mask 255.255.255.0',
              'option broadcast-address 192.168.168.255',
              'option routers 192.168.168.1',
              'range 192.168.168.20 192.168.168.254',
              'allow unknown clients',
            ],
          ],
        ],
      ],
    ]);
    const subnet = need(conf.statements[4]);
    assert.equal(positionText(subnet), `${path.join(dir, 'seed-dhcpd.master')}:3:1`);
    assert.equal(positionText(need(subnet.block?.[1]?.block?.[9])), `${path.join(dir, 'seed-dhcpd.master')}:23:5`);
  });

  test('a site configuration: options, declarations, classes, DNS, shared network, hosts', () => {
    const conf = readDhcpdConf(path.join(dir, 'site.conf'));
    assert.deepEqual(conf.problems, []);
    const top = conf.statements;
    const find = (...start: string[]): ConfStatement => {
      const found = top.find((s) => start.every((word, i) => s.words[i] && tokenText(s.words[i]) === word));
      assert.ok(found, start.join(' '));
      return found;
    };
    assert.deepEqual(
      top.filter((s) => !s.block && keyword(s) !== 'option').map((s) => s.words.map((t) => t.text).join(' ')),
      [
        'authoritative',
        'log-facility local7',
        'default-lease-time 3600',
        'min-lease-time 600',
        'max-lease-time 86400',
        'ignore-client-uids true',
        'ping-check true',
        'ping-timeout 1',
        'server-name boot.lab.example.org',
        'next-server 10.20.0.5',
        'ddns-update-style interim',
        'ddns-updates on',
        'ddns-domainname lab.example.org.',
        'ddns-rev-domainname in-addr.arpa.',
        'ignore client-updates',
        'subclass by-port ge-0/0/2.0',
      ],
    );
    assert.equal(
      statementText(find('option', 'rfc3442-classless-static-routes')),
      'option rfc3442-classless-static-routes code 121 = array of unsigned integer 8;',
    );
    assert.equal(statementText(find('option', 'wpad')), 'option wpad code 252 = text;');
    assert.equal(
      statementText(find('option', 'voip-tftp')),
      'option voip-tftp code 160 = { ip-address, unsigned integer 16, string };',
    );
    assert.deepEqual(words(find('key', 'DHCP_UPDATER').block?.[1]), ['secret', 'pRP5F+pFo/95JEL06sv4PQ==']);
    assert.deepEqual(shape(find('zone', '20.10.in-addr.arpa.').block ?? []), ['primary 10.20.0.53', 'key DHCP_UPDATER']);

    const pxe = find('class', '"pxe"').block ?? [];
    assert.equal(statementText(need(pxe[0])), 'match if substring(option vendor-class-identifier, 0, 9) = "PXEClient";');
    assert.deepEqual(pxe.slice(1).map(keyword), ['if', 'elsif', 'else']);
    assert.deepEqual(words(pxe[2]), ['elsif', 'option', 'pxe-system-type', '=', '00:07']);
    assert.equal(statementText(need(find('class', '"ipxe"').block?.[0])), 'match if option user-class = "iPXE";');
    assert.equal(statementText(need(find('class', '"by-port"').block?.[0])), 'match option agent.circuit-id;');
    assert.deepEqual(shape([find('subclass')]), [['subclass "by-port" "ge-0/0/1.0"', ['option host-name "phone-desk-1"']]]);
    assert.equal(
      statementText(find('option', 'dhcp-parameter-request-list')),
      'option dhcp-parameter-request-list = concat(option dhcp-parameter-request-list, fc);',
    );

    const network = find('shared-network');
    assert.deepEqual(words(network), ['shared-network', '"building-a"']);
    assert.equal(network.block?.[0]?.words[2]?.text, 'http://wpad.lab.example.org/wpad.dat\n');
    const subnets = network.block?.filter((s) => keyword(s) === 'subnet') ?? [];
    assert.deepEqual(
      subnets.map((s) => words(s).join(' ')),
      ['subnet 10.20.1.0 netmask 255.255.255.0', 'subnet 10.20.2.0 netmask 255.255.255.0'],
    );
    assert.deepEqual(shape(subnets[0]?.block?.filter((s) => keyword(s) === 'pool') ?? []), [
      ['pool', ['range 10.20.1.100 10.20.1.199', 'deny unknown-clients']],
      ['pool', ['allow members of "pxe"', 'range 10.20.1.200 10.20.1.220']],
    ]);

    const hosts: string[] = [];
    walkStatements(top, (s, enclosing) => {
      if (keyword(s) === 'host') hosts.push(`${enclosing.map(keyword).join('>')} ${statementText(s)} ${s.line}`);
    });
    assert.deepEqual(hosts, ['group host printer-1 { … } 107', 'group host thin-client { … } 112', 'group host kiosk { … } 117']);
    assert.deepEqual(shape(find('group').block?.[2]?.block ?? []), [
      'hardware ethernet 0:1:2:3:4:5',
      'option dhcp-client-identifier 1:0:1:2:3:4:5',
      'fixed-address 10.20.1.21',
    ]);
    assert.deepEqual(shape(find('on', 'commit').block ?? []).length, 2);
  });
});

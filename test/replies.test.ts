/** The reply helpers: limit clamping with hostile data, escaping, mentions, truncation. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ButtonStyle, ComponentType } from 'discord.js';
import { clampChoices, clampReply, embedLength } from '../src/interactions/limits.ts';
import type { Reply } from '../src/interactions/reply.ts';
import {
  bar, escapeMarkdown, neutraliseMentions, safeName, truncate, unescapeMarkdown,
} from '../src/interactions/text.ts';

const long = (length: number, unit = 'x') => unit.repeat(Math.ceil(length / unit.length))
  .slice(0, length);

test('clampReply fits hostile long embeds, content and components into Discord limits', () => {
  const hostile: Reply = {
    content: long(3000, '@everyone '),
    embeds: Array.from({ length: 12 }, () => ({
      title: long(400),
      description: long(5000),
      footer: { text: long(3000) },
      author: { name: long(400) },
      fields: Array.from({ length: 30 }, () => ({ name: long(300), value: long(2000) })),
    })),
    components: Array.from({ length: 7 }, (_, row) => row === 0
      ? { type: ComponentType.ActionRow, components: [{ type: ComponentType.StringSelect,
        custom_id: long(150), placeholder: long(300),
        options: Array.from({ length: 40 }, (_, i) => ({ label: long(200), value: `${i}${long(150)}`,
          description: long(200) })) }] }
      : { type: ComponentType.ActionRow, components: Array.from({ length: 8 }, (_, i) => ({
        type: ComponentType.Button, style: ButtonStyle.Primary as const, custom_id: `${i}${long(150)}`,
        label: long(200) })) }),
  };
  const clamped = clampReply(hostile);

  assert.equal(clamped.content?.length, 2000);
  assert.doesNotMatch(clamped.content ?? '', /@everyone/);
  assert.ok((clamped.embeds ?? []).length <= 10);
  let total = 0;
  for (const embed of clamped.embeds ?? []) {
    assert.ok((embed.title ?? '').length <= 256);
    assert.ok((embed.description ?? '').length <= 4096);
    assert.ok((embed.fields ?? []).length <= 25);
    for (const field of embed.fields ?? []) {
      assert.ok(field.name.length <= 256 && field.value.length <= 1024);
    }
    assert.ok((embed.footer?.text ?? '').length <= 2048);
    total += (embed.title ?? '').length + (embed.description ?? '').length +
      (embed.footer?.text ?? '').length + (embed.author?.name ?? '').length +
      (embed.fields ?? []).reduce((sum, field) => sum + field.name.length + field.value.length, 0);
  }
  assert.ok(total <= 6000, `total ${total}`);
  assert.ok(total > 5000, 'the budget is used, not thrown away');

  assert.equal(clamped.components?.length, 5);
  const [menuRow, ...buttonRows] = clamped.components ?? [];
  const menu = menuRow?.components[0];
  assert.ok(menu !== undefined && menu.type === ComponentType.StringSelect);
  assert.equal(menu.options.length, 25);
  assert.equal(menu.custom_id.length, 100);
  assert.ok((menu.placeholder ?? '').length <= 150);
  for (const option of menu.options) {
    assert.ok(option.label.length <= 100 && option.value.length <= 100);
    assert.ok((option.description ?? '').length <= 100);
  }
  for (const row of buttonRows) {
    assert.equal(row.components.length, 5);
    for (const button of row.components) {
      assert.ok(button.type === ComponentType.Button);
      assert.ok(button.label.length <= 80 && button.custom_id.length <= 100);
    }
  }
});

test('clampReply leaves a reply that already fits unchanged', () => {
  const reply: Reply = { content: 'Hello', embeds: [{ title: 'T', description: 'D',
    fields: [{ name: 'a', value: 'b' }] }], ephemeral: true };
  assert.deepEqual(clampReply(reply), reply);
  assert.equal(embedLength({ title: 'ab', description: 'cde', footer: { text: 'f' },
    fields: [{ name: 'gh', value: 'i' }] }), 9);
});

test('clampReply fills an empty reply and drops invalid embed urls', () => {
  assert.equal(clampReply({}).content, '\u200b');
  const clamped = clampReply({ embeds: [{ title: 'x', url: 'javascript:alert(1)' }] });
  assert.equal(clamped.embeds?.[0]?.url, undefined);
});

test('clampChoices keeps 25 unique choices within 100 characters', () => {
  const choices = Array.from({ length: 40 }, (_, i) => ({ name: `${i} ${long(150)}`,
    value: `${i % 30} ${long(150)}` }));
  choices.push({ name: '', value: 'empty name' });
  const clamped = clampChoices(choices);
  assert.equal(clamped.length, 25);
  assert.equal(new Set(clamped.map((choice) => choice.value)).size, 25);
  for (const choice of clamped) {
    assert.ok(choice.name.length >= 1 && choice.name.length <= 100);
    assert.ok(choice.value.length >= 1 && choice.value.length <= 100);
  }
});

test('truncate never splits a surrogate pair or leaves a dangling escape', () => {
  const emoji = '🎸'.repeat(100);
  for (let max = 1; max < 30; max += 1) {
    const cut = truncate(emoji, max);
    assert.ok(cut.length <= max);
    assert.doesNotMatch(cut, /[\ud800-\udbff](?![\udc00-\udfff])/);
    assert.ok(cut.endsWith('…'));
  }
  assert.equal(truncate('abc', 3), 'abc');
  assert.equal(truncate('abcd', 3), 'ab…');
  assert.equal(truncate('a\\*b', 3), 'a…');
});

test('escapeMarkdown neutralises formatting and links, and round-trips to the name', () => {
  const names = ['*NSYNC', 'Sunn O)))', '[link](https://evil.example)', '__init__', 'Jay-Z',
    'a|b||c', '`code`', '> quote', '# Heading', 'back\\slash', 'Beyoncé', '東方神起'];
  for (const name of names) {
    const escaped = escapeMarkdown(name);
    assert.equal(unescapeMarkdown(escaped), name);
    // Every markdown character is preceded by an odd number of backslashes.
    for (const match of escaped.matchAll(/(\\*)([*_~`|<>#[\]()-])/g)) {
      assert.equal((match[1] ?? '').length % 2, 1, `${name} -> ${escaped}`);
    }
  }
  assert.equal(escapeMarkdown('two\nlines\t here'), 'two lines here');
});

test('neutraliseMentions breaks @everyone, @here and user/role mentions only', () => {
  const text = neutraliseMentions('@everyone @here <@123> <@!456> <@&789> mail@example.com');
  assert.doesNotMatch(text, /@everyone|@here|<@\d|<@!|<@&/);
  assert.match(text, /mail@example\.com/);
  assert.equal(text.replace(/\u200d/g, ''), '@everyone @here <@123> <@!456> <@&789> mail@example.com');
  assert.doesNotMatch(safeName('@everyone'), /@everyone/);
});

test('bar draws the fraction in ten cells', () => {
  assert.equal(bar(0), '░'.repeat(10));
  assert.equal(bar(1), '█'.repeat(10));
  assert.equal(bar(0.54), '█████░░░░░');
  assert.equal(bar(Number.NaN), '░'.repeat(10));
  assert.equal(bar(7), '█'.repeat(10));
});

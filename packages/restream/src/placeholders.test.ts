import { describe, expect, it } from 'vitest';
import { processConfigSchema } from './config-schema.js';
import {
  createPlaceholderResolver,
  type PlaceholderContext,
  placeholderTemplate,
  replacePlaceholders,
} from './placeholders.js';

const config = (overrides: Record<string, unknown> = {}) =>
  processConfigSchema.parse({
    id: 'cam',
    reference: 'door',
    input: [{ id: 'in', address: 'rtsp://{reference}', options: [] }],
    output: [{ id: 'out', address: '{diskfs}/{processid}-{outputid}.ts', options: [] }],
    ...overrides,
  });

/** datarhei's own registrations, with Dragon's addresses. */
const resolve = createPlaceholderResolver({
  diskfs: '/data',
  memfs: 'http://127.0.0.1:8080/memfs',
  'fs:mem': 'http://127.0.0.1:8080/memfs',
  rtmp: 'rtmp://127.0.0.1:1935/live/{name}',
  srt: placeholderTemplate(
    (context) =>
      `srt://127.0.0.1:6000?mode=caller&transtype=live&latency={latency}&streamid={name},mode:${
        context.section === 'output' ? 'publish' : 'request'
      }`,
    { latency: '20000' },
  ),
});

const inputAddress = (address: string, overrides: Record<string, unknown> = {}) =>
  replacePlaceholders(config({ input: [{ id: 'in', address }], ...overrides }), resolve).input[0]?.address;
const outputAddress = (address: string) =>
  replacePlaceholders(config({ output: [{ id: 'out', address }] }), resolve).output[0]?.address;

describe('replacePlaceholders', () => {
  it('replaces the ids, the reference and the server placeholders in addresses', () => {
    const replaced = replacePlaceholders(config(), resolve);
    expect(replaced.input[0]?.address).toBe('rtsp://door');
    expect(replaced.output[0]?.address).toBe('/data/cam-out.ts');
  });

  it('fills parameters into the server templates, with defaults and per-section values', () => {
    expect(inputAddress('{rtmp,name=cam.stream}')).toBe('rtmp://127.0.0.1:1935/live/cam.stream');
    expect(inputAddress('{srt,name=cam}')).toBe(
      'srt://127.0.0.1:6000?mode=caller&transtype=live&latency=20000&streamid=cam,mode:request',
    );
    expect(outputAddress('{srt,name=cam,latency=40000}')).toBe(
      'srt://127.0.0.1:6000?mode=caller&transtype=live&latency=40000&streamid=cam,mode:publish',
    );
    // A slot without a parameter or a default stays as written, as in datarhei.
    expect(inputAddress('{rtmp}')).toBe('rtmp://127.0.0.1:1935/live/{name}');
  });

  it('URL-decodes parameters and expands $processid, $reference and $inputid in them', () => {
    expect(inputAddress('{rtmp,name=a%2Cb+c}')).toBe('rtmp://127.0.0.1:1935/live/a,b c');
    expect(inputAddress('{rtmp,name=$processid-$reference-$inputid}')).toBe(
      'rtmp://127.0.0.1:1935/live/cam-door-in',
    );
    expect(inputAddress('{rtmp,name=$outputid}')).toBe('rtmp://127.0.0.1:1935/live/$outputid');
    // A parameter that does not decode is dropped, so its slot stays.
    expect(inputAddress('{rtmp,name=%zz}')).toBe('rtmp://127.0.0.1:1935/live/{name}');
  });

  it('escapes values with ^ as datarhei does (its own test vectors)', () => {
    const value = ';:.,-_$\\£!^';
    const withReference = (text: string) => inputAddress(text, { reference: value });
    expect(withReference('{reference}')).toBe(value);
    expect(withReference('{reference^:}')).toBe(';\\\\:.,-_$\\\\\\£!^');
    expect(withReference('{reference^:}x{reference^:}')).toBe(';\\\\:.,-_$\\\\\\£!^x;\\\\:.,-_$\\\\\\£!^');
    expect(withReference('{reference^^}')).toBe(';:.,-_$\\\\\\£!\\\\^');
    expect(withReference('{reference^\\}')).toBe(';:.,-_$\\\\\\£!^');
    expect(withReference('{reference^:.}')).toBe('{reference^:.}');
    expect(withReference('{reference^}')).toBe('{reference^}');
  });

  it('replaces in each field only what datarhei replaces there', () => {
    const replaced = replacePlaceholders(
      config({
        options: ['{diskfs}', '{fs:mem}', '{processid}', '{memfs}'],
        input: [{ id: 'in', address: '{memfs}/{inputid}', options: ['{memfs}', '{rtmp}', '{outputid}'] }],
        output: [
          {
            id: 'out',
            address: '{fs:mem}/{outputid}.m3u8',
            options: ['{inputid}', '{outputid}', '{srt}'],
            cleanup: [{ pattern: 'memfs:/{processid}_{outputid}_*.ts' }, { pattern: '{memfs}/x' }],
          },
        ],
      }),
      resolve,
    );
    expect(replaced.options).toEqual(['/data', 'http://127.0.0.1:8080/memfs', '{processid}', '{memfs}']);
    expect(replaced.input[0]).toMatchObject({
      address: 'http://127.0.0.1:8080/memfs/in',
      options: ['http://127.0.0.1:8080/memfs', '{rtmp}', '{outputid}'],
    });
    expect(replaced.output[0]).toMatchObject({
      address: 'http://127.0.0.1:8080/memfs/out.m3u8',
      options: ['{inputid}', 'out', '{srt}'],
      cleanup: [{ pattern: 'memfs:/cam_out_*.ts' }, { pattern: '{memfs}/x' }],
    });
  });

  it('leaves unknown, unregistered and malformed placeholders as written', () => {
    const bare = replacePlaceholders(
      config({ input: [{ id: 'in', address: '{memfs}/{unknown}/{Upper}/{fs:}/{reference' }] }),
      createPlaceholderResolver({}),
    );
    expect(bare.input[0]?.address).toBe('{memfs}/{unknown}/{Upper}/{fs:}/{reference');
  });

  it('does not expand placeholders inside a replaced value', () => {
    expect(inputAddress('{reference}', { reference: '{processid}{memfs}' })).toBe('{processid}{memfs}');
  });

  it('stays correct on long hostile text', () => {
    const hostile = `${'{a,'.repeat(1_000)}${'{processid'.repeat(500)}`;
    expect(inputAddress(hostile)).toBe(hostile);
    expect(inputAddress(`${'{'.repeat(8_000)}processid}`)).toBe(`${'{'.repeat(7_999)}cam`);
  });

  it('hands the resolver the name, decoded parameters and where the placeholder stands', () => {
    const calls: [string, Record<string, string>, PlaceholderContext][] = [];
    replacePlaceholders(
      config({ input: [{ id: 'in', address: '{rtmp,name=x,token=a%3Db}' }] }),
      (...call) => {
        calls.push([call[0], { ...call[1] }, call[2]]);
        return undefined;
      },
    );
    expect(calls).toContainEqual([
      'rtmp',
      { name: 'x', token: 'a=b' },
      { section: 'input', processId: 'cam', reference: 'door', ioId: 'in' },
    ]);
  });
});

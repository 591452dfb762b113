import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Pod } from '../api/types.js';
import { parseResolvConf, podDnsConfig } from './dns-config.js';

const host = parseResolvConf('# generated\nnameserver 10.0.0.2\nnameserver 10.0.0.3 ; comment\nsearch old.example\nsearch corp.example .\noptions ndots:2 edns0\n');
const pod = (spec: Partial<Pod['spec']>): Pod => ({ metadata: { name: 'p' }, spec: { containers: [], ...spec } }) as Pod;

test('resolv.conf: comments dropped, the last search line wins, options collected', () => {
  assert.deepEqual(host, { servers: ['10.0.0.2', '10.0.0.3'], searches: ['corp.example'], options: ['ndots:2', 'edns0'] });
});

test('ClusterFirst without cluster DNS, and Default, give the host resolver', () => {
  assert.deepEqual(podDnsConfig(pod({}), host), host);
  assert.deepEqual(podDnsConfig(pod({ dnsPolicy: 'Default' }), host), host);
});

test('None uses only the pod dnsConfig; pod options replace host options of the same name', () => {
  const dnsConfig = { nameservers: ['1.1.1.1'], searches: ['a.example'], options: [{ name: 'ndots', value: '5' }, { name: 'rotate' }] };
  assert.deepEqual(podDnsConfig(pod({ dnsPolicy: 'None', dnsConfig }), host), { servers: ['1.1.1.1'], searches: ['a.example'], options: ['ndots:5', 'rotate'] });
  assert.deepEqual(podDnsConfig(pod({ dnsConfig }), host).options, ['ndots:5', 'edns0', 'rotate']);
});

test('at most three nameservers, as the kubelet enforces', () => {
  const dnsConfig = { nameservers: ['1.1.1.1', '8.8.8.8'] };
  assert.deepEqual(podDnsConfig(pod({ dnsConfig }), host).servers, ['10.0.0.2', '10.0.0.3', '1.1.1.1']);
});

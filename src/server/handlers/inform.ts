// DHCPINFORM (RFC 2131 4.3.5): the client has an address already and asks only for configuration.
// DHCPACK with the parameters, no lease time, no yiaddr, unicast to ciaddr.
import { MessageType } from '../../codec/types';
import { drop, type Handler } from '../context';
import { buildReply } from '../reply';

export const handleInform: Handler = (ctx, svc) => {
  if (ctx.request.ciaddr === 0 && !ctx.relayed) return drop('inform-without-ciaddr');
  return buildReply(ctx, svc, {
    type: MessageType.ACK,
    yiaddr: 0,
    includeConfigured: true,
    durable: false,
    event: 'DHCP_INFORM',
  });
};

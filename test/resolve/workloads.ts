/** Real single-workload requests from trixie main, by kind (all checked to exist in trixie). */
export const WORKLOADS: Record<string, string[]> = {
  'web server': ['nginx', 'apache2', 'lighttpd', 'caddy', 'tomcat10'],
  proxy: ['haproxy', 'varnish', 'squid', 'coturn'],
  cache: ['redis-server', 'valkey-server', 'memcached'],
  database: ['postgresql', 'mariadb-server', 'sqlite3', 'influxdb', 'etcd-server'],
  runtime: ['python3', 'perl', 'ruby', 'nodejs', 'openjdk-21-jre-headless', 'golang-go', 'php-fpm', 'erlang-base', 'elixir', 'lua5.4', 'gunicorn', 'uwsgi'],
  mail: ['postfix', 'exim4-daemon-light', 'dovecot-imapd', 'opendkim', 'rspamd', 'clamav-daemon'],
  dns: ['bind9', 'unbound', 'knot-resolver', 'dnsmasq', 'pdns-server', 'knot', 'nsd'],
  monitoring: ['prometheus', 'prometheus-node-exporter', 'collectd', 'zabbix-agent', 'monit', 'nagios4', 'icinga2'],
  system: ['openssh-server', 'dropbear', 'rsyslog', 'chrony', 'nftables', 'iptables', 'wireguard-tools', 'keepalived', 'busybox'],
  tools: ['curl', 'git', 'apache2-utils'],
  network: ['tor', 'mosquitto', 'rabbitmq-server', 'samba', 'nfs-kernel-server', 'vsftpd'],
  containers: ['containerd', 'runc', 'podman', 'docker.io'],
};

export const WORKLOAD_LIST: string[] = Object.values(WORKLOADS).flat();

/** A request of hundreds of packages, for the large-request figure. */
export const LARGE_REQUEST = ['gnome-core'];

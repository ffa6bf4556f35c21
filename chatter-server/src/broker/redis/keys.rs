//! The names a deployment uses in Redis, all under its namespace (`--redis-namespace`,
//! "chatter" by default), so that deployments sharing one Redis never meet.

/// The keys and channel of one deployment.
#[derive(Debug, Clone)]
pub struct Keys {
    ns: String,
}

impl Keys {
    /// Names under `namespace`.
    pub fn new(namespace: &str) -> Self {
        Self { ns: namespace.to_owned() }
    }

    /// The pub/sub channel every node follows.
    pub fn channel(&self) -> String {
        format!("{}:events", self.ns)
    }

    /// Sorted set: node id → its last heartbeat (ms).
    pub fn nodes(&self) -> String {
        format!("{}:nodes", self.ns)
    }

    /// Set: nodes holding a socket of `user_id`.
    pub fn online(&self, user_id: &str) -> String {
        format!("{}{user_id}", self.online_prefix())
    }

    /// What `online` puts before the user id (scripts build the keys themselves).
    pub fn online_prefix(&self) -> String {
        format!("{}:online:", self.ns)
    }

    /// Set: users with a socket on `node`.
    pub fn node_users(&self, node: &str) -> String {
        format!("{}:node:{node}:users", self.ns)
    }

    /// String: the node hosting the call of `chat_id`.
    pub fn call(&self, chat_id: &str) -> String {
        format!("{}:call:{chat_id}", self.ns)
    }

    /// String: the node hosting call `call_id`.
    pub fn call_id(&self, call_id: &str) -> String {
        format!("{}:call-id:{call_id}", self.ns)
    }

    /// Counter: failed logins of `username` in the current window.
    pub fn login(&self, username: &str) -> String {
        format!("{}:login:{username}", self.ns)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_is_under_the_namespace() {
        let k = Keys::new("acme");
        assert_eq!(k.channel(), "acme:events");
        assert_eq!(k.nodes(), "acme:nodes");
        assert_eq!(k.online("u1"), "acme:online:u1");
        assert_eq!(k.node_users("n1"), "acme:node:n1:users");
        assert_eq!(k.login("alice"), "acme:login:alice");
    }
}
